//! Server-side verification of ACS3-HMAC-SHA256.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use ring::hmac;

use super::{ALGORITHM, canonical, string_to_sign};
use crate::encoding::hex_decode;
use crate::{SignatureVersion, Verified, VerifyError};

const AUTH: &str = "the Authorization header";

/// The parts of an `Authorization: ACS3-HMAC-SHA256 ...` header.
struct Authorization<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: [u8; 32],
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, VerifyError> {
    let value = value.trim();
    let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(VerifyError::UnsupportedAlgorithm {
            algorithm: algorithm.into(),
        });
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, val)) = part.split_once('=') else {
            return Err(VerifyError::malformed(
                AUTH,
                alloc::format!("part `{part}` is not key=value"),
            ));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => {
                return Err(VerifyError::malformed(
                    AUTH,
                    alloc::format!(
                        "has unknown part `{other}`; expected Credential, SignedHeaders and Signature"
                    ),
                ));
            }
        };
        if slot.replace(val.trim()).is_some() {
            return Err(VerifyError::malformed(
                AUTH,
                alloc::format!("has `{key}` more than once"),
            ));
        }
    }
    fn need<'v>(v: Option<&'v str>, name: &str) -> Result<&'v str, VerifyError> {
        match v {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(VerifyError::missing(alloc::format!(
                "{name} in the Authorization header"
            ))),
        }
    }
    let credential = need(credential, "Credential")?;
    let signed_headers = need(signed_headers, "SignedHeaders")?;
    let signature_hex = need(signature, "Signature")?;
    let mut signature = [0u8; 32];
    hex_decode(signature_hex, &mut signature).ok_or_else(|| {
        VerifyError::malformed(
            "the Signature in the Authorization header",
            "is not 64 hex digits (a hex HMAC-SHA256)",
        )
    })?;
    Ok(Authorization {
        credential,
        signed_headers,
        signature,
    })
}

/// Verifies a V3-signed request on the server side.
///
/// `path` is the path as received (still percent-encoded), `query` the
/// decoded query parameters (see [`parse_query`](crate::parse_query)),
/// `headers` every header received (names in any case), `body` the body as
/// received. `lookup` maps an access key id to its secret.
///
/// The headers named in `SignedHeaders` are used in that order, as the
/// client listed them; `x-acs-date` and `x-acs-signature-nonce` must be
/// among them so that time and nonce cannot be replaced.
///
/// # Errors
/// A [`VerifyError`]: `Missing` for an absent `Authorization` header or
/// part of it, an absent `x-acs-date`/`x-acs-signature-nonce`, or a signed
/// header not present; `UnsupportedAlgorithm` for another algorithm;
/// `Malformed` for an unparsable header, an unsigned date or nonce, or an
/// `x-acs-accesskey-id` that differs from the Credential;
/// `InvalidTimestamp`; `UnknownAccessKey`; `SignatureDoesNotMatch`
/// carrying the server's string to sign and canonical request.
pub fn verify<QK, QV, HK, HV, F, S>(
    method: &str,
    path: &str,
    query: &[(QK, QV)],
    headers: &[(HK, HV)],
    body: &[u8],
    lookup: F,
) -> Result<Verified, VerifyError>
where
    QK: AsRef<str>,
    QV: AsRef<str>,
    HK: AsRef<str>,
    HV: AsRef<str>,
    F: Fn(&str) -> Option<S>,
    S: AsRef<str>,
{
    let values = |name: &'static str| {
        headers
            .iter()
            .filter(move |(n, _)| n.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    };
    let single = |name: &'static str| -> Result<Option<&str>, VerifyError> {
        let mut it = values(name);
        let first = it.next();
        if it.next().is_some() {
            return Err(VerifyError::malformed(
                alloc::format!("the {name} header"),
                "appears more than once",
            ));
        }
        Ok(first.map(str::trim))
    };
    let auth_value = single("authorization")?.ok_or_else(|| VerifyError::missing(AUTH))?;
    let auth = parse_authorization(auth_value)?;

    let mut signed: Vec<&str> = Vec::new();
    for name in auth.signed_headers.split(';') {
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(VerifyError::malformed(
                "SignedHeaders in the Authorization header",
                "must be lower-case header names separated by `;`",
            ));
        }
        if signed.contains(&name) {
            return Err(VerifyError::malformed(
                "SignedHeaders in the Authorization header",
                alloc::format!("lists `{name}` twice"),
            ));
        }
        signed.push(name);
    }
    for must in ["x-acs-date", "x-acs-signature-nonce"] {
        if !signed.contains(&must) {
            return Err(VerifyError::malformed(
                "SignedHeaders in the Authorization header",
                alloc::format!(
                    "does not include {must}; the request time and nonce must be signed"
                ),
            ));
        }
    }

    let date =
        single("x-acs-date")?.ok_or_else(|| VerifyError::missing("the x-acs-date header"))?;
    let timestamp = crate::parse_timestamp(date)
        .ok_or_else(|| VerifyError::InvalidTimestamp { value: date.into() })?;
    let nonce = single("x-acs-signature-nonce")?
        .filter(|n| !n.is_empty())
        .ok_or_else(|| VerifyError::missing("the x-acs-signature-nonce header"))?;
    let security_token = single("x-acs-security-token")?.filter(|t| !t.is_empty());
    if single("x-acs-accesskey-id")?.is_some_and(|id| id != auth.credential) {
        return Err(VerifyError::malformed(
            "the x-acs-accesskey-id header",
            "differs from the Credential in the Authorization header",
        ));
    }

    let mut chosen: Vec<canonical::Header<'_>> = Vec::with_capacity(signed.len());
    for name in &signed {
        let before = chosen.len();
        for (n, v) in headers {
            if n.as_ref().eq_ignore_ascii_case(name) {
                chosen.push((Cow::Borrowed(*name), v.as_ref().trim()));
            }
        }
        if chosen.len() == before {
            return Err(VerifyError::missing(alloc::format!(
                "the {name} header, which SignedHeaders lists"
            )));
        }
    }

    let secret = lookup(auth.credential).ok_or_else(|| VerifyError::UnknownAccessKey {
        access_key_id: auth.credential.into(),
    })?;
    let query = canonical::sorted_query(query);
    let payload = canonical::hashed_payload(body);
    let (canonical, _) = canonical::write(method, path, &query, &chosen, &payload);
    let sts = string_to_sign(&canonical);
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_ref().as_bytes());
    if hmac::verify(&key, sts.as_bytes(), &auth.signature).is_err() {
        return Err(VerifyError::SignatureDoesNotMatch {
            string_to_sign: sts,
            canonical,
        });
    }
    Ok(Verified {
        version: SignatureVersion::V3,
        access_key_id: auth.credential.into(),
        security_token: security_token.map(String::from),
        timestamp,
        nonce: nonce.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Acs3Request, SignedHeaders, sign};
    use super::*;
    use crate::Credentials;
    use alloc::borrow::ToOwned;
    use alloc::vec;
    use time::macros::datetime;

    type Pairs = Vec<(String, String)>;

    fn signed_request() -> (Pairs, Pairs) {
        let creds = Credentials::new("AK", "SK")
            .unwrap()
            .with_security_token("TOKEN")
            .unwrap();
        let query = [("RegionId", "cn-hangzhou")];
        let headers = [("x-acs-action", "A"), ("User-Agent", "ua")];
        let req = Acs3Request::new("POST", "h.example", "/")
            .with_query(&query)
            .with_headers(&headers);
        let t = datetime!(2026-01-02 03:04:05 UTC);
        let added = sign(&req, &creds, t, "nonce", &SignedHeaders::AllPresent).unwrap();
        let mut all: Pairs = headers
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        all.push(("Host".into(), "h.example".into()));
        all.extend(
            added
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.into_owned())),
        );
        (vec![("RegionId".into(), "cn-hangzhou".into())], all)
    }

    fn lookup(id: &str) -> Option<&'static str> {
        (id == "AK").then_some("SK")
    }

    fn replace(headers: &Pairs, name: &str, value: &str) -> Pairs {
        headers
            .iter()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case(name) {
                    (k.clone(), value.to_owned())
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect()
    }

    #[test]
    fn round_trip_and_failures() {
        let (query, headers) = signed_request();
        let v = verify("POST", "/", &query, &headers, b"", lookup).unwrap();
        assert_eq!(v.access_key_id(), "AK");
        assert_eq!(v.security_token(), Some("TOKEN"));
        assert_eq!(v.nonce(), "nonce");
        assert_eq!(v.version(), SignatureVersion::V3);

        let e = verify("POST", "/", &query, &headers, b"x", lookup).unwrap_err();
        assert!(e.is_signature_mismatch());
        let e = verify(
            "POST",
            "/",
            &query,
            &replace(&headers, "user-agent", "ub"),
            b"",
            lookup,
        )
        .unwrap_err();
        assert!(e.is_signature_mismatch());
        let auth = headers
            .iter()
            .find(|h| h.0 == "Authorization")
            .unwrap()
            .1
            .clone();
        type Check = fn(&VerifyError) -> bool;
        let cases: [(&str, Check); 8] = [
            ("Bearer x", |e| {
                matches!(e, VerifyError::UnsupportedAlgorithm { .. })
            }),
            ("ACS3-HMAC-SHA256", |e| {
                matches!(e, VerifyError::Missing { .. })
            }),
            ("ACS3-HMAC-SHA256 Credential=AK", |e| {
                matches!(e, VerifyError::Missing { .. })
            }),
            (
                "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=x-acs-date;x-acs-signature-nonce,Signature=zz",
                |e| matches!(e, VerifyError::Malformed { .. }),
            ),
            ("ACS3-HMAC-SHA256 Credential=AK,Foo=1", |e| {
                matches!(e, VerifyError::Malformed { .. })
            }),
            ("ACS3-HMAC-SHA256 Credential=AK,Credential=AK", |e| {
                matches!(e, VerifyError::Malformed { .. })
            }),
            ("ACS3-HMAC-SHA256 Credential", |e| {
                matches!(e, VerifyError::Malformed { .. })
            }),
            (
                "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host,Signature=00",
                |e| matches!(e, VerifyError::Malformed { .. }),
            ),
        ];
        for (value, check) in cases {
            let e = verify(
                "POST",
                "/",
                &query,
                &replace(&headers, "authorization", value),
                b"",
                lookup,
            )
            .unwrap_err();
            assert!(check(&e), "{value}: {e:?}");
        }
        let unknown = auth.replace("Credential=AK", "Credential=NOPE");
        let e = verify(
            "POST",
            "/",
            &query,
            &replace(&headers, "authorization", &unknown),
            b"",
            lookup,
        )
        .unwrap_err();
        assert!(matches!(e, VerifyError::Malformed { .. }), "{e:?}");
        let e = verify("POST", "/", &query, &headers, b"", |_: &str| None::<&str>).unwrap_err();
        assert!(
            matches!(e, VerifyError::UnknownAccessKey { ref access_key_id } if access_key_id == "AK"),
            "{e:?}"
        );
        let e = verify(
            "POST",
            "/",
            &query,
            &replace(&headers, "x-acs-date", "yesterday"),
            b"",
            lookup,
        )
        .unwrap_err();
        assert!(matches!(e, VerifyError::InvalidTimestamp { .. }), "{e:?}");
        let without_ua: Pairs = headers
            .iter()
            .filter(|h| h.0 != "User-Agent")
            .cloned()
            .collect();
        let e = verify("POST", "/", &query, &without_ua, b"", lookup).unwrap_err();
        assert!(
            matches!(e, VerifyError::Missing { ref part } if part.contains("user-agent")),
            "{e:?}"
        );
        let empty_credential = auth.replace("Credential=AK", "Credential=");
        let e = verify(
            "POST",
            "/",
            &query,
            &replace(&headers, "authorization", &empty_credential),
            b"",
            lookup,
        )
        .unwrap_err();
        assert!(
            matches!(e, VerifyError::Missing { ref part } if part.contains("Credential")),
            "{e:?}"
        );
        let empty_name = auth.replace("SignedHeaders=", "SignedHeaders=;");
        let e = verify(
            "POST",
            "/",
            &query,
            &replace(&headers, "authorization", &empty_name),
            b"",
            lookup,
        )
        .unwrap_err();
        assert!(
            matches!(e, VerifyError::Malformed { ref reason, .. } if reason.contains("lower-case header names")),
            "{e:?}"
        );
        let none: Pairs = Vec::new();
        let e = verify("POST", "/", &query, &none, b"", lookup).unwrap_err();
        assert_eq!(e, VerifyError::missing(AUTH));
    }
}
