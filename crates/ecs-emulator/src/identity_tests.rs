//! Tests of the credential services over HTTP: what each accepts and
//! refuses, and that the STS keys they issue work on the emulator's own
//! API until they expire.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use ecs_sign::test_util::ManualTimeSource;
use ecs_sign::{Credentials, rpc_v1};
use serde_json::Value;
use time::macros::datetime;

use super::*;

const T0: time::OffsetDateTime = datetime!(2026-12-01 00:00:00 UTC);

/// One request over a fresh connection: status, and body.
fn exchange(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(stream, "{head}\r\n{body}").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply[9..12].parse().unwrap();
    let body = reply.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// A V1-signed call of `action` (`version`) by `credentials` at `now`.
fn signed(
    addr: SocketAddr,
    credentials: &Credentials,
    action: &str,
    version: &str,
    params: &[(&str, &str)],
    now: time::OffsetDateTime,
    nonce: &str,
) -> (u16, String) {
    let request = rpc_v1::RpcV1Request::new("POST", action, version, params);
    let query = rpc_v1::sign(&request, credentials, now, nonce).unwrap();
    exchange(
        addr,
        "POST",
        &format!("/?{}", ecs_sign::encode_query(&query)),
        &[],
        "",
    )
}

fn demo() -> Credentials {
    Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).unwrap()
}

/// The STS credentials in a JSON object.
fn credentials_of(object: &Value) -> Credentials {
    let field = |name: &str| object[name].as_str().unwrap().to_owned();
    Credentials::new(field("AccessKeyId"), field("AccessKeySecret"))
        .unwrap()
        .with_security_token(field("SecurityToken"))
        .unwrap()
}

fn describe(
    addr: SocketAddr,
    credentials: &Credentials,
    now: time::OffsetDateTime,
    nonce: &str,
) -> (u16, String) {
    signed(
        addr,
        credentials,
        "DescribeInvocationResults",
        "2014-05-26",
        &[("RegionId", "cn-hangzhou")],
        now,
        nonce,
    )
}

async fn start(builder: EmulatorBuilder) -> (EmulatorHandle, Arc<ManualTimeSource>) {
    let clock = Arc::new(ManualTimeSource::new(T0));
    let emulator = builder
        .data(DataSet::demo())
        .time_source(Arc::clone(&clock))
        .start()
        .await
        .unwrap();
    (emulator, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_keys_work_until_they_expire() {
    let (emulator, clock) = start(Emulator::builder()).await;
    let addr = emulator.addr();
    let result = tokio::task::spawn_blocking(move || {
        let params = [
            ("RoleArn", "acs:ram::1:role/r"),
            ("RoleSessionName", "s"),
            ("DurationSeconds", "900"),
        ];
        let (status, body) = signed(addr, &demo(), "AssumeRole", "2015-04-01", &params, T0, "n1");
        assert_eq!(status, 200, "{body}");
        let answer = json(&body);
        assert_eq!(
            answer["Credentials"]["Expiration"].as_str(),
            Some("2026-12-01T00:15:00Z")
        );
        let sts = credentials_of(&answer["Credentials"]);
        let (status, body) = describe(addr, &sts, T0, "n2");
        assert_eq!(status, 200, "{body}");
        // A nonce used once is refused, for STS as for ECS.
        let (status, body) = signed(addr, &demo(), "AssumeRole", "2015-04-01", &params, T0, "n1");
        assert_eq!(
            (status, json(&body)["Code"].as_str()),
            (400, Some("SignatureNonceUsed"))
        );
        // A session may assume a role (ChainableRamRoleArn).
        let (status, body) = signed(addr, &sts, "AssumeRole", "2015-04-01", &params, T0, "n3");
        assert_eq!(status, 200, "{body}");

        clock.advance(time::Duration::seconds(900));
        let late = T0 + time::Duration::seconds(900);
        let (status, body) = describe(addr, &sts, late, "n4");
        assert_eq!(
            (status, json(&body)["Code"].as_str()),
            (400, Some("InvalidSecurityToken.Expired")),
            "{body}"
        );
        // The wrong secret, and a wrong token, are refused.
        let forged = Credentials::new(sts.access_key_id(), "wrong").unwrap();
        let (status, body) = signed(
            addr,
            &forged,
            "AssumeRole",
            "2015-04-01",
            &params,
            late,
            "n5",
        );
        assert_eq!(
            (status, json(&body)["Code"].as_str()),
            (400, Some("SignatureDoesNotMatch"))
        );
        let unknown = Credentials::new("Nobody", "x").unwrap();
        let (status, body) = signed(
            addr,
            &unknown,
            "AssumeRole",
            "2015-04-01",
            &params,
            late,
            "n6",
        );
        assert_eq!(
            (status, json(&body)["Code"].as_str()),
            (404, Some("InvalidAccessKeyId.NotFound"))
        );
        let bad = [
            ("RoleArn", "r"),
            ("RoleSessionName", "s"),
            ("DurationSeconds", "60"),
        ];
        let (status, body) = signed(addr, &demo(), "AssumeRole", "2015-04-01", &bad, late, "n7");
        assert_eq!(
            (status, json(&body)["Code"].as_str()),
            (400, Some("InvalidParameter.DurationSeconds"))
        );
    })
    .await;
    emulator.shutdown().await;
    result.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_with_oidc_checks_the_token() {
    let (emulator, _clock) = start(Emulator::builder().oidc_token("the-jwt")).await;
    let addr = emulator.addr();
    let result = tokio::task::spawn_blocking(move || {
        let call = |token: &str| {
            let form = ecs_sign::encode_query(&[
                ("RoleArn", "acs:ram::1:role/r"),
                ("RoleSessionName", "s"),
                ("OIDCProviderArn", "acs:ram::1:oidc-provider/p"),
                ("OIDCToken", token),
            ]);
            exchange(
                addr,
                "POST",
                "/?Action=AssumeRoleWithOIDC&Format=JSON&Version=2015-04-01&Timestamp=2026-12-01T00%3A00%3A00Z",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                &form,
            )
        };
        let (status, body) = call("the-jwt");
        assert_eq!(status, 200, "{body}");
        let sts = credentials_of(&json(&body)["Credentials"]);
        assert_eq!(describe(addr, &sts, T0, "o1").0, 200);
        let (status, body) = call("another-jwt");
        assert_eq!(
            (status, json(&body)["Code"].as_str()),
            (400, Some("AuthenticationFail.OIDCToken.Invalid"))
        );
        assert!(!body.contains("the-jwt"), "{body}");
    })
    .await;
    emulator.shutdown().await;
    result.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_service_serves_the_role_with_or_without_imdsv1() {
    for imdsv1 in [true, false] {
        let (emulator, _clock) = start(Emulator::builder().instance_role("R").imdsv1(imdsv1)).await;
        let addr = emulator.addr();
        let result = tokio::task::spawn_blocking(move || {
            let ttl = [("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")];
            let (status, token) = exchange(addr, "PUT", "/latest/api/token", &ttl, "");
            assert_eq!(status, 200);
            let with = [("X-aliyun-ecs-metadata-token", token.as_str())];
            let list = "/latest/meta-data/ram/security-credentials/";
            assert_eq!(
                exchange(addr, "GET", list, &with, ""),
                (200, "R".to_owned())
            );
            let (status, body) = exchange(addr, "GET", &format!("{list}R"), &with, "");
            assert_eq!(status, 200, "{body}");
            let doc = json(&body);
            assert_eq!(doc["Code"].as_str(), Some("Success"));
            assert_eq!(describe(addr, &credentials_of(&doc), T0, "m1").0, 200);
            assert_eq!(
                exchange(addr, "GET", &format!("{list}Other"), &with, "").0,
                404
            );
            let forged = [("X-aliyun-ecs-metadata-token", "imds-forged")];
            assert_eq!(exchange(addr, "GET", list, &forged, "").0, 401);
            let without = exchange(addr, "GET", list, &[], "").0;
            assert_eq!(without, if imdsv1 { 200 } else { 403 });
            // No TTL, no token.
            assert_eq!(exchange(addr, "PUT", "/latest/api/token", &[], "").0, 400);
        })
        .await;
        emulator.shutdown().await;
        result.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_uri_sso_and_oauth_services_issue_working_keys() {
    let builder = Emulator::builder()
        .sso_access_token("sso-tok")
        .oauth_refresh_token("refresh-tok")
        .max_session_lifetime(Duration::from_secs(60));
    let (emulator, _clock) = start(builder).await;
    let addr = emulator.addr();
    let result = tokio::task::spawn_blocking(move || {
        let (status, body) = exchange(addr, "GET", "/credentials-uri", &[], "");
        assert_eq!(status, 200, "{body}");
        let doc = json(&body);
        // The lifetime is capped.
        assert_eq!(doc["Expiration"].as_str(), Some("2026-12-01T00:01:00Z"));
        assert_eq!(describe(addr, &credentials_of(&doc), T0, "u1").0, 200);

        let sso_body = r#"{"AccountId":"1","AccessConfigurationId":"ac-1"}"#;
        let bearer = [
            ("Authorization", "Bearer sso-tok"),
            ("Content-Type", "application/json"),
        ];
        let (status, body) = exchange(addr, "POST", "/cloud-credentials", &bearer, sso_body);
        assert_eq!(status, 200, "{body}");
        let sts = credentials_of(&json(&body)["CloudCredential"]);
        assert_eq!(describe(addr, &sts, T0, "u2").0, 200);
        let wrong = [("Authorization", "Bearer nope")];
        let (status, body) = exchange(addr, "POST", "/cloud-credentials", &wrong, sso_body);
        assert_eq!(status, 401, "{body}");
        assert_eq!(
            exchange(addr, "POST", "/cloud-credentials", &bearer[..1], "{}").0,
            400
        );

        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        let (status, body) = exchange(
            addr,
            "POST",
            "/v1/token",
            &form,
            "grant_type=refresh_token&refresh_token=refresh-tok&client_id=1",
        );
        assert_eq!(status, 200, "{body}");
        let access = json(&body)["access_token"].as_str().unwrap().to_owned();
        let auth = format!("Bearer {access}");
        let (status, body) = exchange(
            addr,
            "POST",
            "/v1/exchange",
            &[("Authorization", &auth)],
            "",
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            describe(addr, &credentials_of(&json(&body)), T0, "u3").0,
            200
        );
        let (status, _) = exchange(
            addr,
            "POST",
            "/v1/token",
            &form,
            "grant_type=refresh_token&refresh_token=stolen",
        );
        assert_eq!(status, 400);
        let forged = [("Authorization", "Bearer oauth-forged")];
        assert_eq!(exchange(addr, "POST", "/v1/exchange", &forged, "").0, 401);
        assert_eq!(exchange(addr, "GET", "/v1/exchange", &[], "").0, 400);
    })
    .await;
    assert_eq!(emulator.issued_sessions(), 3);
    emulator.shutdown().await;
    result.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_apply_to_the_credential_services() {
    let builder = Emulator::builder().fault("throttle:x1".parse().unwrap());
    let (emulator, _clock) = start(builder).await;
    let addr = emulator.addr();
    let result = tokio::task::spawn_blocking(move || {
        let (status, body) = exchange(addr, "GET", "/credentials-uri", &[], "");
        assert_eq!(
            (status, json(&body)["Code"].as_str()),
            (400, Some("Throttling.User"))
        );
        assert_eq!(exchange(addr, "GET", "/credentials-uri", &[], "").0, 200);
    })
    .await;
    emulator.shutdown().await;
    result.unwrap();
}

#[tokio::test]
async fn a_fault_aimed_at_one_service_spares_the_others() {
    // `on=uri`: the credentials URI fails, the OAuth service answers.
    let builder = Emulator::builder().fault("error503:on=uri".parse().unwrap());
    let (emulator, _clock) = start(builder).await;
    let addr = emulator.addr();
    let result = tokio::task::spawn_blocking(move || {
        for _ in 0..3 {
            let (status, body) = exchange(addr, "GET", "/credentials-uri", &[], "");
            assert_eq!(
                (status, json(&body)["Code"].as_str()),
                (503, Some("ServiceUnavailable"))
            );
        }
        let (status, _) = exchange(addr, "POST", "/v1/token", &[], "grant_type=refresh_token");
        assert_ne!(status, 503, "OAuth is not the faulted service");
    })
    .await;
    emulator.shutdown().await;
    result.unwrap();
}
