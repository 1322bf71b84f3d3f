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
        .map(|r| match r.output_bytes(&encoding) {
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
