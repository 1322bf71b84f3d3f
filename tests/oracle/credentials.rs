//! The `credentials` suite: our default credentials chain over a fixture's
//! environment and files, with every HTTP request it makes (STS, the
//! credentials URI, the metadata service) recorded and answered by a canned
//! server in process.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ecs_assist::credentials::{CredentialsProvider as _, DefaultCredentialsChain, OsFileSystem};
use ecs_transport::{Transport, TransportFuture};
use serde_json::{Value, json};

/// Answers every request as the services would for a valid caller and
/// remembers what was asked.
#[derive(Debug, Default)]
struct Recorder {
    requests: Mutex<Vec<Value>>,
}

impl Transport for Recorder {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        let uri = request.uri().clone();
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        let body = String::from_utf8_lossy(request.body()).into_owned();
        for text in [uri.query().unwrap_or_default(), body.as_str()] {
            if let Ok(pairs) = ecs_sign::parse_query(text) {
                params.extend(pairs);
            }
        }
        let action = params.get("Action").cloned().unwrap_or_default();
        let answer = match (uri.path(), action.as_str()) {
            ("/cloud-credentials", _) => json!({
                "CloudCredential": {
                    "AccessKeyId": "SSO.AK",
                    "AccessKeySecret": "sso-secret",
                    "SecurityToken": "token-of-sso",
                    "Expiration": "2099-01-01T00:00:00Z",
                },
            }),
            ("/v1/token", _) => json!({
                "access_token": "new-access",
                "refresh_token": "new-refresh",
                "expires_in": 3600,
            }),
            ("/v1/exchange", _) => json!({
                "AccessKeyId": "OAUTH.AK",
                "AccessKeySecret": "oauth-secret",
                "SecurityToken": "token-of-oauth",
                "Expiration": "2099-01-01T00:00:00Z",
            }),
            (_, "AssumeRole" | "AssumeRoleWithOIDC") => json!({
                "RequestId": "R",
                "Credentials": {
                    "AccessKeyId": format!("STS.{action}"),
                    "AccessKeySecret": "sts-secret",
                    "SecurityToken": format!("token-of-{action}"),
                    "Expiration": "2099-01-01T00:00:00Z",
                },
            }),
            _ => json!({
                "Code": "Success",
                "AccessKeyId": "URI.AK",
                "AccessKeySecret": "uri-secret",
                "SecurityToken": "token-of-uri",
                "Expiration": "2099-01-01T00:00:00Z",
            }),
        };
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(json!({
                "host": uri.host().unwrap_or_default(),
                "path": uri.path(),
                "params": params,
            }));
        Box::pin(async move {
            Ok(http::Response::builder()
                .header("content-type", "application/json")
                .body(Bytes::from(answer.to_string()))
                .unwrap_or_default())
        })
    }
}

/// Resolves the default chain over the case's `env` (a map; `HOME` names
/// the directory holding the fixture's files).
pub(crate) fn credentials(case: &Value) -> Result<Value, String> {
    let env: std::collections::HashMap<String, String> = case["env"]
        .as_object()
        .ok_or("`env` is not an object")?
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect();
    let recorder = Arc::new(Recorder::default());
    let chain = DefaultCredentialsChain::builder()
        .environment(&env)
        .file_system(OsFileSystem)
        .transport(Arc::clone(&recorder))
        .build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let outcome = runtime.block_on(chain.provide_credentials());
    let requests = recorder
        .requests
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Ok(match outcome {
        Ok(creds) => json!({
            "id": creds.access_key_id(),
            "token": creds.security_token(),
            "secret_sha256": sha256_hex(creds.access_key_secret()),
            "requests": requests,
        }),
        Err(err) => json!({ "error": err.to_string(), "requests": requests }),
    })
}

/// The secret is compared by its hash, never printed.
fn sha256_hex(text: &str) -> String {
    use std::fmt::Write as _;
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}
