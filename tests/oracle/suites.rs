//! One function per suite: a case in, our answer out.

use ecs_assist::config::{Endpoint, EndpointType};
use ecs_model::{ContentEncoding, RetryClass, classify, decode_json};
use ecs_sign::{acs3, rpc_v1};
use serde_json::{Value, json};

/// Answers `case` by its `suite`.
pub(crate) fn answer(case: &Value) -> Value {
    let result = match case["suite"].as_str() {
        Some("sign_v3") => sign_v3(case),
        Some("sign_v1") => sign_v1(case),
        Some("sign_oss") => sign_oss(case),
        Some("endpoint") => Ok(endpoint(case)),
        Some("response") => response(case),
        Some("retry") => retry(case),
        Some("credentials") => crate::credentials::credentials(case),
        other => Err(format!("unknown suite {other:?}")),
    };
    result.unwrap_or_else(|err| json!({ "oracle_error": err }))
}

fn text<'a>(case: &'a Value, field: &str) -> Result<&'a str, String> {
    case[field]
        .as_str()
        .ok_or_else(|| format!("`{field}` is not a string"))
}

/// `[[name, value], ...]` as owned pairs.
fn pairs(value: &Value) -> Result<Vec<(String, String)>, String> {
    value
        .as_array()
        .ok_or("pairs are not an array")?
        .iter()
        .map(|pair| match pair.as_array().map(Vec::as_slice) {
            Some([Value::String(k), Value::String(v)]) => Ok((k.clone(), v.clone())),
            _ => Err(format!("not a [name, value] pair: {pair}")),
        })
        .collect()
}

/// A V3 request: our canonical request, string to sign and signature, and
/// whether our verifier accepts the official signature (and rejects each
/// mutant).
fn sign_v3(case: &Value) -> Result<Value, String> {
    let method = text(case, "method")?;
    let path = text(case, "path")?;
    let query = pairs(&case["query"])?;
    let headers = pairs(&case["headers"])?;
    let body = text(case, "body")?;
    let secret = text(case, "secret")?;
    let key_id = text(case, "key_id")?;
    let hashed = acs3::hashed_payload(body.as_bytes());
    let canonical = acs3::canonical_request(
        method,
        path,
        &query,
        &headers,
        &acs3::SignedHeaders::AllPresent,
        &hashed,
    )
    .map_err(|e| e.to_string())?;
    let string_to_sign = acs3::string_to_sign(canonical.as_str());
    let signature = acs3::signature(secret, &string_to_sign);
    let authorization = acs3::authorization(key_id, canonical.signed_headers(), &signature);
    let verify = |query: &[(String, String)], headers: &[(String, String)], body: &str| {
        acs3::verify(method, path, query, headers, body.as_bytes(), |id: &str| {
            (id == key_id).then_some(secret)
        })
        .map(|_| ())
        .map_err(|e| e.to_string())
    };
    let mut signed_headers = headers;
    signed_headers.push((
        "Authorization".to_owned(),
        text(case, "official_authorization")?.to_owned(),
    ));
    let verified = verify(&query, &signed_headers, body);
    let mut mutants = Vec::new();
    for mutant in case["mutants"].as_array().into_iter().flatten() {
        let query = pairs(&mutant["query"])?;
        let headers = pairs(&mutant["headers"])?;
        let body = text(mutant, "body")?;
        mutants.push(verify(&query, &headers, body).is_err());
    }
    Ok(json!({
        "canonical": canonical.as_str(),
        "string_to_sign": string_to_sign,
        "signature": signature,
        "authorization": authorization,
        "verify": verified.err(),
        "mutants_rejected": mutants,
    }))
}

/// A V1 request: our canonicalized query, string to sign and signature, and
/// whether our verifier accepts the official signature (and rejects each
/// mutant).
fn sign_v1(case: &Value) -> Result<Value, String> {
    let method = text(case, "method")?;
    let params = pairs(&case["params"])?;
    let secret = text(case, "secret")?;
    let key_id = text(case, "key_id")?;
    let canonical = rpc_v1::canonicalized_query_string(&params);
    let string_to_sign = rpc_v1::string_to_sign(method, &canonical);
    let signature = rpc_v1::signature(secret, &string_to_sign);
    let verify = |params: &[(String, String)]| {
        rpc_v1::verify(method, params, |id: &str| (id == key_id).then_some(secret))
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let mut signed = params;
    signed.push((
        "Signature".to_owned(),
        text(case, "official_signature")?.to_owned(),
    ));
    let verified = verify(&signed);
    let mut mutants = Vec::new();
    for mutant in case["mutants"].as_array().into_iter().flatten() {
        mutants.push(verify(&pairs(mutant)?).is_err());
    }
    Ok(json!({
        "canonical": canonical,
        "string_to_sign": string_to_sign,
        "signature": signature,
        "verify": verified.err(),
        "mutants_rejected": mutants,
    }))
}

/// The host for a region and network, or why there is none.
fn endpoint(case: &Value) -> Value {
    let region = case["region"].as_str().unwrap_or_default();
    let network = match case["network"].as_str() {
        Some("vpc") => EndpointType::Vpc,
        _ => EndpointType::Public,
    };
    match Endpoint::for_region(region, network) {
        Ok(endpoint) => json!({ "host": endpoint.authority() }),
        Err(err) => json!({ "error": err }),
    }
}

/// A response body decoded: the response as JSON (the wire's field names)
/// and each result's output as bytes (hex), decoded with `encoding`.
fn response(case: &Value) -> Result<Value, String> {
    let body = text(case, "body")?;
    let encoding = ContentEncoding::parse(case["encoding"].as_str().unwrap_or("Base64"));
    let decoded = match decode_json(body.as_bytes()) {
        Ok(decoded) => decoded,
        Err(err) => return Ok(json!({ "error": err.to_string() })),
    };
    let outputs: Vec<Value> = decoded
        .invocation
        .results
        .iter()
        .map(|r| match r.output_bytes_as(&encoding) {
            Ok(bytes) => json!(hex(&bytes)),
            Err(err) => json!({ "error": err.to_string() }),
        })
        .collect();
    let value = serde_json::to_value(&decoded).map_err(|e| e.to_string())?;
    Ok(json!({ "response": value, "outputs": outputs }))
}

/// Whether an error answer would be retried.
fn retry(case: &Value) -> Result<Value, String> {
    let status = case["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or("`status` is not an HTTP status")?;
    let class = classify(Some(status), case["code"].as_str());
    Ok(json!({
        "retryable": class.is_retryable(),
        "throttling": class == RetryClass::Throttling,
    }))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// An OSS GetObject request: our canonical request, string to sign and
/// `Authorization`.
pub(crate) fn sign_oss(case: &Value) -> Result<Value, String> {
    use ecs_sign::{Credentials, oss_v4};
    let bucket = text(case, "bucket")?;
    let key = text(case, "key")?;
    let region = text(case, "region")?;
    let headers = pairs(&case["headers"])?;
    let query = pairs(&case["query"])?;
    let additional: Vec<&str> = case["additional"]
        .as_array()
        .ok_or("`additional` is not an array")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut credentials = Credentials::new(text(case, "key_id")?, text(case, "secret")?)
        .map_err(|e| e.to_string())?;
    if let Some(token) = case["token"].as_str() {
        credentials = credentials
            .with_security_token(token)
            .map_err(|e| e.to_string())?;
    }
    let time = time::OffsetDateTime::parse(
        text(case, "time")?,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|e| e.to_string())?;
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let query: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let request = oss_v4::OssRequest::new("GET", bucket, key)
        .with_query(&query)
        .with_headers(&headers)
        .with_additional_headers(&additional);
    let added = oss_v4::sign(&request, &credentials, time, region).map_err(|e| e.to_string())?;
    let mut all = headers.clone();
    all.extend(
        added
            .iter()
            .filter(|(k, _)| *k != "Authorization")
            .map(|(k, v)| (*k, v.as_str())),
    );
    let canonical =
        oss_v4::canonical_request(&request, &all, &oss_v4::additional_headers(&request));
    let datetime = oss_v4::format_datetime(time).map_err(|e| e.to_string())?;
    let scope = oss_v4::scope(&datetime[..8], region, oss_v4::PRODUCT);
    let authorization = added
        .iter()
        .find(|(k, _)| *k == "Authorization")
        .map(|(_, v)| v.clone());
    Ok(json!({
        "canonical": canonical,
        "string_to_sign": oss_v4::string_to_sign(&datetime, &scope, &canonical),
        "authorization": authorization,
    }))
}
