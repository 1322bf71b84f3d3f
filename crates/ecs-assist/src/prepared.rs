//! [`PreparedRequest`]: a signed request not sent (for `--dry-run` and
//! debugging), shown with every secret masked.

use std::fmt;

use bytes::Bytes;
use http::header::AUTHORIZATION;

/// A signed request that was not sent (for `--dry-run` and debugging).
///
/// [`Display`](fmt::Display) and `Debug` print it with every value derived
/// from the secret or carrying the token masked: the `Signature` query
/// parameter, the signature in `Authorization`, `SecurityToken` and
/// `x-acs-security-token`. [`request`](Self::request) is the real thing.
pub struct PreparedRequest {
    request: http::Request<Bytes>,
}

/// The mask that replaces secret values.
const MASK: &str = "***";

impl PreparedRequest {
    pub(crate) fn new(request: http::Request<Bytes>) -> Self {
        Self { request }
    }

    /// The request exactly as it would be sent. Its signature is valid for
    /// 15 minutes and once (the nonce): do not log it.
    pub fn request(&self) -> &http::Request<Bytes> {
        &self.request
    }

    /// The request exactly as it would be sent.
    pub fn into_request(self) -> http::Request<Bytes> {
        self.request
    }

    /// The request line and headers, secrets masked.
    pub fn redacted(&self) -> String {
        self.to_string()
    }

    /// The URI with `Signature` and `SecurityToken` masked.
    pub fn redacted_uri(&self) -> String {
        let uri = self.request.uri();
        let base = format!(
            "{}://{}{}",
            uri.scheme_str().unwrap_or("https"),
            uri.authority().map_or("", |a| a.as_str()),
            uri.path()
        );
        match uri.query() {
            None => base,
            Some(query) => {
                let masked: Vec<String> = query
                    .split('&')
                    .map(|pair| {
                        let (key, _) = pair.split_once('=').unwrap_or((pair, ""));
                        if key == "Signature" || key == "SecurityToken" {
                            format!("{key}={MASK}")
                        } else {
                            pair.to_owned()
                        }
                    })
                    .collect();
                format!("{base}?{}", masked.join("&"))
            }
        }
    }
}

/// Masks the signature of an `Authorization` header, keeping the algorithm,
/// the access key id and the signed header list.
fn mask_authorization(value: &str) -> String {
    match value.find("Signature=") {
        Some(at) => format!("{}Signature={MASK}", &value[..at]),
        None => MASK.to_owned(),
    }
}

impl fmt::Display for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.request.method(), self.redacted_uri())?;
        for (name, value) in self.request.headers() {
            let text = value.to_str().unwrap_or("<binary>");
            let shown = if name == AUTHORIZATION {
                mask_authorization(text)
            } else if name.as_str() == "x-acs-security-token" {
                MASK.to_owned()
            } else {
                text.to_owned()
            };
            writeln!(f, "{name}: {shown}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedRequest")
            .field("redacted", &self.to_string())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_request::tests::build_example;
    use ecs_sign::SignatureVersion;

    #[test]
    fn redaction_masks_signatures_and_tokens() {
        for version in [SignatureVersion::V1, SignatureVersion::V3] {
            let r = build_example(version);
            let signature = match version {
                SignatureVersion::V1 => r
                    .uri()
                    .query()
                    .unwrap()
                    .rsplit_once("Signature=")
                    .unwrap()
                    .1
                    .to_owned(),
                SignatureVersion::V3 => r.headers()["authorization"]
                    .to_str()
                    .unwrap()
                    .rsplit_once("Signature=")
                    .unwrap()
                    .1
                    .to_owned(),
            };
            let p = PreparedRequest::new(r);
            let text = p.redacted();
            assert!(!text.contains(&signature), "{text}");
            assert!(!text.contains("TOKEN-SECRET-VALUE"), "{text}");
            assert!(!format!("{p:?}").contains("TOKEN-SECRET-VALUE"));
            assert!(text.contains("Signature=***"), "{text}");
            assert!(text.contains("testAccessKeyId"), "{text}");
            assert!(text.starts_with("POST http://127.0.0.1:18081/?"), "{text}");
        }
    }
}
