//! The services a credentials chain talks to, served on the emulator's own
//! listener so that a whole chain runs offline:
//!
//! | route | service |
//! |---|---|
//! | `/` with `Action=AssumeRole` (V1-signed) | STS `AssumeRole` |
//! | `/` with `Action=AssumeRoleWithOIDC` (anonymous) | STS `AssumeRoleWithOIDC` |
//! | `PUT /latest/api/token` | the metadata service's IMDSv2 token |
//! | `GET /latest/meta-data/ram/security-credentials/[ROLE]` | the instance's role, its credentials |
//! | `GET /credentials-uri` | a credentials URI document |
//! | `POST /cloud-credentials` | CloudSSO (Bearer access token) |
//! | `POST /v1/token`, `POST /v1/exchange` | the OAuth service |
//!
//! Every credential issued is an STS session the emulator's own
//! `DescribeInvocationResults` accepts until it expires.

use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http::header::AUTHORIZATION;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::api_error::ApiError;
use crate::sessions::{Session, Sessions};

/// What the credential services need from the server that hosts them:
/// their settings, the sessions issued so far, the clock, and the check of
/// a V1-signed request. The server implements it, so this module does not
/// depend on the server's state.
pub(crate) trait Host {
    /// The credential services' settings.
    fn identity(&self) -> &IdentityConfig;
    /// The credentials issued so far.
    fn sessions(&self) -> &Sessions;
    /// The emulator's clock.
    fn now(&self) -> OffsetDateTime;
    /// Verifies a V1-signed request (`params`: query and form) as the
    /// server verifies an ECS request.
    fn authenticate_v1(&self, method: &Method, params: &[(String, String)])
    -> Result<(), ApiError>;
}

/// The OIDC token `AssumeRoleWithOIDC` accepts by default.
pub const DEFAULT_OIDC_TOKEN: &str = "EmulatorOidcToken";
/// The RAM role of the emulated instance by default.
pub const DEFAULT_INSTANCE_ROLE: &str = "EmulatorRole";
/// The CloudSSO access token accepted by default.
pub const DEFAULT_SSO_ACCESS_TOKEN: &str = "EmulatorSsoAccessToken";
/// The OAuth refresh token accepted by default.
pub const DEFAULT_OAUTH_REFRESH_TOKEN: &str = "EmulatorOAuthRefreshToken";

/// STS's version.
const STS_VERSION: &str = "2015-04-01";
/// The lifetime of credentials when the request names none.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// The lifetime of an OAuth access token.
const OAUTH_ACCESS_LIFETIME: Duration = Duration::from_secs(3600);
const IMDS_TOKEN_PATH: &str = "/latest/api/token";
const IMDS_CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const IMDS_TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";
const IMDS_TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";

/// What the credential services accept and how long what they issue lives.
#[derive(Clone)]
pub(crate) struct IdentityConfig {
    pub(crate) oidc_token: String,
    pub(crate) instance_role: String,
    pub(crate) imdsv1: bool,
    pub(crate) sso_access_token: String,
    pub(crate) oauth_refresh_token: String,
    /// At most this lifetime for every credential issued.
    pub(crate) max_lifetime: Option<Duration>,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            oidc_token: DEFAULT_OIDC_TOKEN.to_owned(),
            instance_role: DEFAULT_INSTANCE_ROLE.to_owned(),
            imdsv1: true,
            sso_access_token: DEFAULT_SSO_ACCESS_TOKEN.to_owned(),
            oauth_refresh_token: DEFAULT_OAUTH_REFRESH_TOKEN.to_owned(),
            max_lifetime: None,
        }
    }
}

impl std::fmt::Debug for IdentityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityConfig")
            .field("instance_role", &self.instance_role)
            .field("imdsv1", &self.imdsv1)
            .field("max_lifetime", &self.max_lifetime)
            .finish_non_exhaustive()
    }
}

/// An answer of a credential service.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Bytes,
}

impl Reply {
    fn json(value: &Value) -> Self {
        Self {
            status: 200,
            content_type: "application/json;charset=utf-8",
            body: Bytes::from(value.to_string()),
        }
    }

    fn text(status: u16, text: String) -> Self {
        Self {
            status,
            content_type: "text/plain;charset=utf-8",
            body: Bytes::from(text),
        }
    }
}

/// Whether a request with this path and `Action` is for a credential
/// service rather than ECS.
pub(crate) fn is_credential_route(path: &str, action: Option<&str>) -> bool {
    match path {
        "/" => matches!(action, Some("AssumeRole" | "AssumeRoleWithOIDC")),
        "/credentials-uri" | "/cloud-credentials" | "/v1/token" | "/v1/exchange" => true,
        _ => path == IMDS_TOKEN_PATH || path.starts_with(IMDS_CREDENTIALS_PATH),
    }
}

/// Serves one credential-service request (`params`: query and form).
pub(crate) fn serve(
    state: &dyn Host,
    parts: &http::request::Parts,
    params: &[(String, String)],
    body: &Bytes,
    request_id: &str,
) -> Result<Reply, ApiError> {
    let (method, path) = (&parts.method, parts.uri.path());
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let expect = |wanted: &Method| {
        if method == wanted {
            Ok(())
        } else {
            Err(ApiError::bad_request(&format!(
                "{path} takes {wanted}, not {method}"
            )))
        }
    };
    match path {
        "/" => sts(state, method, params, param("Action"), request_id),
        IMDS_TOKEN_PATH => {
            expect(&Method::PUT)?;
            Ok(imds_token(state, parts))
        }
        "/credentials-uri" => {
            expect(&Method::GET)?;
            let session = issue(state, None)?;
            Ok(Reply::json(&session_document(&session)))
        }
        "/cloud-credentials" => {
            expect(&Method::POST)?;
            cloud_sso(state, parts, body, request_id)
        }
        "/v1/token" => {
            expect(&Method::POST)?;
            oauth_token(state, params)
        }
        "/v1/exchange" => {
            expect(&Method::POST)?;
            oauth_exchange(state, parts, request_id)
        }
        _ => {
            expect(&Method::GET)?;
            Ok(imds_credentials(
                state,
                parts,
                &path[IMDS_CREDENTIALS_PATH.len()..],
            ))
        }
    }
}

/// A new session living `requested` (or the default), at most the
/// configured maximum, expiring on a whole second (as the documents say).
fn issue(state: &dyn Host, requested: Option<Duration>) -> Result<Session, ApiError> {
    let config = state.identity();
    let mut lifetime = requested.unwrap_or(DEFAULT_LIFETIME);
    if let Some(max) = config.max_lifetime {
        lifetime = lifetime.min(max);
    }
    let expiration = expiry(state.now(), lifetime);
    state
        .sessions()
        .issue(expiration)
        .ok_or_else(ApiError::internal_error)
}

fn expiry(now: OffsetDateTime, lifetime: Duration) -> OffsetDateTime {
    let lifetime = time::Duration::try_from(lifetime).unwrap_or(time::Duration::DAY);
    now.checked_add(lifetime)
        .unwrap_or(now)
        .replace_nanosecond(0)
        .unwrap_or(now)
}

/// The metadata service's and credentials URI's document.
fn session_document(session: &Session) -> Value {
    let mut fields = session.fields();
    fields.insert("Code".into(), "Success".into());
    let updated = ecs_sign::format_timestamp(session.expiration - time::Duration::seconds(1))
        .unwrap_or_default();
    fields.insert("LastUpdated".into(), updated.into());
    Value::Object(fields)
}

fn sts(
    state: &dyn Host,
    method: &Method,
    params: &[(String, String)],
    action: Option<&str>,
    request_id: &str,
) -> Result<Reply, ApiError> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let version = param("Version").ok_or_else(|| ApiError::missing_parameter("Version"))?;
    if version != STS_VERSION {
        return Err(ApiError::unsupported_version(version));
    }
    let action = action.unwrap_or_default();
    if action == "AssumeRole" {
        state.authenticate_v1(method, params)?;
    } else {
        let token = param("OIDCToken").ok_or_else(|| ApiError::missing_parameter("OIDCToken"))?;
        param("OIDCProviderArn").ok_or_else(|| ApiError::missing_parameter("OIDCProviderArn"))?;
        let expected = state.identity().oidc_token.as_bytes();
        if !crate::auth::constant_time_eq(expected, token.as_bytes()) {
            return Err(ApiError::not_authorized(
                400,
                "AuthenticationFail.OIDCToken.Invalid",
                "The OIDC token",
            ));
        }
    }
    let role_arn = param("RoleArn").ok_or_else(|| ApiError::missing_parameter("RoleArn"))?;
    param("RoleSessionName").ok_or_else(|| ApiError::missing_parameter("RoleSessionName"))?;
    let requested = match param("DurationSeconds") {
        None => None,
        Some(text) => match text.parse::<u64>() {
            Ok(secs) if (900..=43_200).contains(&secs) => Some(Duration::from_secs(secs)),
            _ => return Err(ApiError::invalid_duration(text)),
        },
    };
    let session = issue(state, requested)?;
    Ok(Reply::json(&json!({
        "RequestId": request_id,
        "AssumedRoleUser": {
            "Arn": format!("{role_arn}/emulator"),
            "AssumedRoleId": "300000000000000000:emulator",
        },
        "Credentials": Value::Object(session.fields()),
    })))
}

fn header<'a>(parts: &'a http::request::Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

fn imds_token(state: &dyn Host, parts: &http::request::Parts) -> Reply {
    let ttl = header(parts, IMDS_TTL_HEADER).and_then(|v| v.trim().parse::<u64>().ok());
    let Some(ttl) = ttl.filter(|t| (1..=21_600).contains(t)) else {
        return Reply::text(
            400,
            format!("{IMDS_TTL_HEADER} must be whole seconds from 1 to 21600"),
        );
    };
    let expiration = expiry(state.now(), Duration::from_secs(ttl));
    match state.sessions().issue_token("imds-", expiration) {
        Some(token) => Reply::text(200, token),
        None => Reply::text(500, "internal error".to_owned()),
    }
}

fn imds_credentials(state: &dyn Host, parts: &http::request::Parts, role: &str) -> Reply {
    let config = state.identity();
    match header(parts, IMDS_TOKEN_HEADER) {
        Some(token) if !state.sessions().token_valid(token, state.now()) => {
            return Reply::text(401, "the metadata token is not valid or expired".to_owned());
        }
        None if !config.imdsv1 => {
            return Reply::text(
                403,
                "IMDSv1 is disabled: PUT /latest/api/token first".to_owned(),
            );
        }
        _ => {}
    }
    if role.is_empty() {
        return Reply::text(200, config.instance_role.clone());
    }
    if role != config.instance_role {
        return Reply::text(404, "Not Found".to_owned());
    }
    match issue(state, None) {
        Ok(session) => Reply::json(&session_document(&session)),
        Err(_) => Reply::text(500, "internal error".to_owned()),
    }
}

/// The bearer token of `Authorization: Bearer TOKEN`.
fn bearer(parts: &http::request::Parts) -> Option<&str> {
    header(parts, AUTHORIZATION.as_str())?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn cloud_sso(
    state: &dyn Host,
    parts: &http::request::Parts,
    body: &Bytes,
    request_id: &str,
) -> Result<Reply, ApiError> {
    let expected = state.identity().sso_access_token.as_bytes();
    if !bearer(parts).is_some_and(|t| crate::auth::constant_time_eq(expected, t.as_bytes())) {
        return Err(ApiError::not_authorized(
            401,
            "InvalidAccessToken",
            "The CloudSSO access token",
        ));
    }
    let request: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("the body is not a JSON object"))?;
    for name in ["AccountId", "AccessConfigurationId"] {
        if request
            .get(name)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(ApiError::missing_parameter(name));
        }
    }
    let session = issue(state, None)?;
    Ok(Reply::json(&json!({
        "RequestId": request_id,
        "CloudCredential": Value::Object(session.fields()),
    })))
}

fn oauth_token(state: &dyn Host, params: &[(String, String)]) -> Result<Reply, ApiError> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if param("grant_type") != Some("refresh_token") {
        return Err(ApiError::bad_request("grant_type must be refresh_token"));
    }
    let expected = state.identity().oauth_refresh_token.clone();
    if !param("refresh_token")
        .is_some_and(|t| crate::auth::constant_time_eq(expected.as_bytes(), t.as_bytes()))
    {
        return Err(ApiError::not_authorized(
            400,
            "invalid_grant",
            "The refresh token",
        ));
    }
    let expiration = expiry(state.now(), OAUTH_ACCESS_LIFETIME);
    let access = state
        .sessions()
        .issue_token("oauth-", expiration)
        .ok_or_else(ApiError::internal_error)?;
    Ok(Reply::json(&json!({
        "access_token": access,
        "refresh_token": expected,
        "expires_in": OAUTH_ACCESS_LIFETIME.as_secs(),
        "token_type": "Bearer",
    })))
}

fn oauth_exchange(
    state: &dyn Host,
    parts: &http::request::Parts,
    request_id: &str,
) -> Result<Reply, ApiError> {
    if !bearer(parts).is_some_and(|t| state.sessions().token_valid(t, state.now())) {
        return Err(ApiError::not_authorized(
            401,
            "invalid_token",
            "The OAuth access token",
        ));
    }
    let session = issue(state, None)?;
    let mut fields = session.fields();
    fields.insert("RequestId".into(), request_id.into());
    Ok(Reply::json(&Value::Object(fields)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_told_apart_by_path_and_action() {
        assert!(is_credential_route("/", Some("AssumeRole")));
        assert!(is_credential_route("/", Some("AssumeRoleWithOIDC")));
        assert!(!is_credential_route("/", Some("DescribeInvocationResults")));
        assert!(!is_credential_route("/", None));
        for path in [
            "/latest/api/token",
            "/latest/meta-data/ram/security-credentials/",
            "/latest/meta-data/ram/security-credentials/Role",
            "/credentials-uri",
            "/cloud-credentials",
            "/v1/token",
            "/v1/exchange",
        ] {
            assert!(is_credential_route(path, None), "{path}");
        }
        assert!(!is_credential_route("/other", None));
    }

    #[test]
    fn expiries_fall_on_whole_seconds() {
        let now = time::macros::datetime!(2026-12-01 00:00:00.75 UTC);
        assert_eq!(
            expiry(now, Duration::from_secs(10)),
            time::macros::datetime!(2026-12-01 00:00:10 UTC)
        );
    }
}
