//! HTTP for the credential providers: one request through the injected
//! transport with a deadline, and the JSON credentials document shared by
//! the metadata service and the credentials URI
//! (docs/api/describe-invocation-results.md#session-document).

use std::time::Duration;

use bytes::Bytes;
use ecs_sign::Credentials;
use ecs_transport::Transport as _;
use futures::future::{Either, select};
use serde_json::Value;

use crate::cache::Expiring;
use crate::error::Error;
use crate::provider_config::ProviderConfig;
use ecs_transport::AsyncSleep as _;

/// Sends `request` and waits at most `timeout` (when the config has a
/// sleep). `what` names the service in errors ("the metadata service").
/// No answer in time, or none at all, is a source that could not deliver
/// ([`Error::is_unavailable`]); no transport is configuration.
pub(crate) async fn send(
    config: &ProviderConfig,
    request: http::Request<Bytes>,
    timeout: Duration,
    what: &str,
) -> Result<http::Response<Bytes>, Error> {
    let Some(transport) = &config.transport else {
        return Err(Error::new(format!(
            "{what} cannot be reached: no transport (pass one to the client or ProviderConfig::transport)"
        )));
    };
    let send = transport.send(request);
    let result = match &config.sleep {
        Some(sleep) => match select(send, sleep.sleep(timeout)).await {
            Either::Left((result, _)) => result,
            Either::Right(((), _)) => {
                return Err(Error::new(format!(
                    "{what} did not answer within {} ms",
                    timeout.as_millis()
                ))
                .unavailable_if(true));
            }
        },
        None => send.await,
    };
    result.map_err(|e| {
        Error::new(format!("{what} is unreachable ({})", e.kind()))
            .unavailable_if(true)
            .with_source(e)
    })
}

/// The body as text, for error messages: at most 200 characters, one line.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &one_line[..i]),
        None => one_line,
    }
}

/// Reads the document `{"Code":"Success","AccessKeyId","AccessKeySecret",
/// "SecurityToken","Expiration"}` of the metadata service and the
/// credentials URI. `what` names the source in errors. Values are never
/// quoted in errors (they are secrets). An unusable document is a source
/// that could not deliver ([`Error::is_unavailable`]).
pub(crate) fn parse_session(body: &[u8], what: &str) -> Result<Expiring, Error> {
    parse_session_document(body, what).map_err(|e| e.unavailable_if(true))
}

fn parse_session_document(body: &[u8], what: &str) -> Result<Expiring, Error> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Error::new(format!("{what} answered with a body that is not JSON")).with_source(e)
    })?;
    let Some(object) = value.as_object() else {
        return Err(Error::new(format!(
            "{what} answered with JSON that is not an object"
        )));
    };
    let code = string_field(object, "Code", what)?;
    if code != "Success" {
        return Err(Error::new(format!(
            "{what} answered Code `{}` instead of `Success`",
            snippet(code.as_bytes())
        )));
    }
    session_from_object(object, what)
}

/// A string field of a JSON object, trimmed and not empty.
pub(crate) fn string_field<'a>(
    object: &'a serde_json::Map<String, Value>,
    name: &str,
    what: &str,
) -> Result<&'a str, Error> {
    match object.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim()),
        Some(Value::String(_) | Value::Null) | None => {
            Err(Error::new(format!("{what} answered without `{name}`")))
        }
        Some(_) => Err(Error::new(format!(
            "{what} answered with `{name}` that is not a string"
        ))),
    }
}

/// `AccessKeyId`, `AccessKeySecret`, `SecurityToken` and `Expiration` of
/// a JSON object (the metadata service's document, STS's `Credentials`);
/// missing or unusable ones are a source that could not deliver.
pub(crate) fn session_from_object(
    object: &serde_json::Map<String, Value>,
    what: &str,
) -> Result<Expiring, Error> {
    session_fields(object, what).map_err(|e| e.unavailable_if(true))
}

fn session_fields(object: &serde_json::Map<String, Value>, what: &str) -> Result<Expiring, Error> {
    let field = |name: &str| string_field(object, name, what);
    let (id, secret, token) = (
        field("AccessKeyId")?,
        field("AccessKeySecret")?,
        field("SecurityToken")?,
    );
    let credentials = Credentials::new(id, secret)
        .and_then(|c| c.with_security_token(token))
        .map_err(|e| Error::new(format!("{what} answered with unusable credentials: {e}")))?;
    let expiration = ecs_sign::parse_timestamp(field("Expiration")?).ok_or_else(|| {
        Error::new(format!(
            "{what} answered with an `Expiration` that is not YYYY-MM-DDThh:mm:ssZ"
        ))
    })?;
    Ok(Expiring {
        credentials,
        expiration: Some(expiration),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"Code":"Success","AccessKeyId":"STS.AK","AccessKeySecret":"sek","SecurityToken":"tok","Expiration":"2026-01-01T06:00:00Z","LastUpdated":"x"}"#;

    #[test]
    fn parses_the_session_document() {
        let e = parse_session(GOOD.as_bytes(), "the metadata service").unwrap();
        assert_eq!(e.credentials.access_key_id(), "STS.AK");
        assert_eq!(e.credentials.security_token(), Some("tok"));
        assert_eq!(e.expiration.unwrap().unix_timestamp(), 1_767_247_200);
    }

    #[test]
    fn bad_documents_say_what_is_wrong_without_secrets() {
        let cases = [
            ("not json", "body that is not JSON"),
            ("[1]", "JSON that is not an object"),
            (
                r#"{"Code":"Failed","AccessKeySecret":"sek"}"#,
                "Code `Failed`",
            ),
            (
                r#"{"Code":"Success","AccessKeyId":"A","AccessKeySecret":"sek","SecurityToken":"t"}"#,
                "without `Expiration`",
            ),
            (
                r#"{"Code":"Success","AccessKeyId":1,"AccessKeySecret":"sek"}"#,
                "`AccessKeyId` that is not a string",
            ),
            (
                r#"{"Code":"Success","AccessKeyId":"A","AccessKeySecret":"sek","SecurityToken":"t","Expiration":"tomorrow"}"#,
                "`Expiration` that is not",
            ),
        ];
        for (body, want) in cases {
            let e = parse_session(body.as_bytes(), "x").unwrap_err();
            let text = e.to_string();
            assert!(text.contains(want), "{body}: {text}");
            assert!(!text.contains("sek"), "{text}");
            assert_eq!(e.kind(), crate::ErrorKind::Unavailable);
            assert!(e.is_unavailable(), "{body}");
        }
    }
}
