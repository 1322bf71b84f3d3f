//! One attempt's HTTP request, built and signed as the official SDKs build
//! theirs: `POST /` with the API parameters in the query and an empty body;
//! signature V1 adds the common parameters and `Signature` to the query, V3
//! adds the `x-acs-*` headers and `Authorization`. The string to sign and
//! the signature themselves are `ecs-sign`'s. No IO: the retry loop in
//! `call.rs` calls it before every attempt.

use bytes::Bytes;
use ecs_model::{ACTION, API_VERSION, ResponseFormat};
use ecs_sign::{Credentials, SignatureVersion, acs3, encode_query, rpc_v1};
use http::header::{ACCEPT, HOST, USER_AGENT};
use time::OffsetDateTime;

use crate::endpoint::Endpoint;
use crate::error::Error;

/// What one request needs besides the parameters.
pub(crate) struct Signing<'a> {
    pub(crate) endpoint: &'a Endpoint,
    pub(crate) version: SignatureVersion,
    pub(crate) format: ResponseFormat,
    pub(crate) user_agent: &'a str,
    pub(crate) credentials: &'a Credentials,
    pub(crate) time: OffsetDateTime,
    pub(crate) nonce: &'a str,
}

/// Builds the signed request: `POST /`, the API parameters in the query,
/// an empty body. V1 adds the common parameters and `Signature` to the
/// query; V3 adds `x-acs-*` headers and `Authorization`. Both carry
/// `x-acs-action` / `x-acs-version` headers, as the tea SDK does.
pub(crate) fn build(
    params: &[(String, String)],
    signing: &Signing<'_>,
) -> Result<http::Request<Bytes>, Error> {
    let authority = signing.endpoint.authority();
    let mut headers: Vec<(String, String)> = vec![
        ("x-acs-action".into(), ACTION.into()),
        ("x-acs-version".into(), API_VERSION.into()),
    ];
    let query = match signing.version {
        SignatureVersion::V1 => {
            let request = rpc_v1::RpcV1Request::new("POST", ACTION, API_VERSION, params)
                .with_format(signing.format.as_param());
            let signed = rpc_v1::sign(&request, signing.credentials, signing.time, signing.nonce)
                .map_err(Error::signing)?;
            encode_query(&signed)
        }
        SignatureVersion::V3 => {
            let unsigned = [("x-acs-action", ACTION), ("x-acs-version", API_VERSION)];
            let request = acs3::Acs3Request::new("POST", authority, "/")
                .with_query(params)
                .with_headers(&unsigned);
            let added = acs3::sign(
                &request,
                signing.credentials,
                signing.time,
                signing.nonce,
                &acs3::SignedHeaders::Default,
            )
            .map_err(Error::signing)?;
            headers.extend(
                added
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.into_owned())),
            );
            encode_query(params)
        }
    };
    let uri = format!("{}/?{query}", signing.endpoint);
    let mut builder = http::Request::post(uri)
        .header(HOST, authority)
        .header(USER_AGENT, signing.user_agent)
        .header(ACCEPT, signing.format.accept());
    for (name, value) in &headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder.body(Bytes::new()).map_err(Error::request_build)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use time::macros::datetime;

    fn creds() -> Credentials {
        Credentials::new("testAccessKeyId", "testAccessKeySecret")
            .unwrap()
            .with_security_token("TOKEN-SECRET-VALUE")
            .unwrap()
    }

    pub(crate) fn build_example(version: SignatureVersion) -> http::Request<Bytes> {
        let endpoint = Endpoint::parse("http://127.0.0.1:18081").unwrap();
        let creds = creds();
        let params = vec![
            ("RegionId".to_owned(), "cn-hangzhou".to_owned()),
            ("Tag.1.Value".to_owned(), "prod test".to_owned()),
        ];
        let signing = Signing {
            endpoint: &endpoint,
            version,
            format: ResponseFormat::Json,
            user_agent: "ua",
            credentials: &creds,
            time: datetime!(2026-11-26 05:02:36 UTC),
            nonce: "c7dfc9a36657b8ef5d59b58763a65cfd",
        };
        build(&params, &signing).unwrap()
    }

    #[test]
    fn v3_request_has_the_official_shape() {
        let r = build_example(SignatureVersion::V3);
        assert_eq!(r.method(), http::Method::POST);
        assert_eq!(r.uri().path(), "/");
        assert_eq!(
            r.uri().query(),
            Some("RegionId=cn-hangzhou&Tag.1.Value=prod%20test")
        );
        assert!(r.body().is_empty());
        let h = r.headers();
        assert_eq!(h["x-acs-action"], ACTION);
        assert_eq!(h["x-acs-version"], API_VERSION);
        assert_eq!(h["host"], "127.0.0.1:18081");
        assert_eq!(h["x-acs-date"], "2026-11-26T05:02:36Z");
        assert_eq!(h["x-acs-security-token"], "TOKEN-SECRET-VALUE");
        let auth = h["authorization"].to_str().unwrap();
        assert!(auth.starts_with("ACS3-HMAC-SHA256 Credential=testAccessKeyId,SignedHeaders="));
    }

    #[test]
    fn v1_request_carries_common_parameters_and_signature() {
        let r = build_example(SignatureVersion::V1);
        let q = r.uri().query().unwrap();
        for p in [
            "Action=DescribeInvocationResults",
            "Version=2014-05-26",
            "Format=JSON",
            "SignatureMethod=HMAC-SHA1",
            "SignatureVersion=1.0",
            "AccessKeyId=testAccessKeyId",
            "SecurityToken=TOKEN-SECRET-VALUE",
            "RegionId=cn-hangzhou",
            "&Signature=",
        ] {
            assert!(q.contains(p), "{p} missing from {q}");
        }
        assert!(r.headers().get("authorization").is_none());
    }
}
