//! The provider's checks of a createandcall request, in gate order: headers, then time, then key,
//! then signature, then body. Each failure carries the code the provider documents.

use hyper::HeaderMap;
use hyper::header::CONTENT_TYPE;
use secrecy::ExposeSecret;
use serde_json::{Map, Value};

use crate::nxcc::Credentials;
use crate::nxcc::response::{
    CODE_BAD_ACCESS_KEY, CODE_BAD_BODY, CODE_BAD_PARAMETERS, CODE_BAD_SIGNATURE,
    CODE_MISSING_HEADER, CODE_STALE_TS,
};
use crate::nxcc::sign::{ACTION_CC, BIZ_TYPE_CC, SignAlgorithm, sign_headers};

/// The provider's allowed clock skew.
const MAX_SKEW_MS: u64 = 60_000;

/// Why a request is refused: its code and a message for the answer's `msg`.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: i64,
    pub msg: String,
}

pub fn refuse(code: i64, msg: impl Into<String>) -> Refusal {
    Refusal {
        code,
        msg: msg.into(),
    }
}

/// Checks a createandcall request like the provider; on success, the parsed body to record.
pub fn check(
    credentials: &Credentials,
    headers: &HeaderMap,
    body: &[u8],
    now_ms: u64,
) -> Result<Value, Refusal> {
    let parsed = check_signed(credentials, headers, body, now_ms)?;
    check_body(&parsed).map_err(|msg| refuse(CODE_BAD_BODY, msg))?;
    Ok(parsed)
}

/// The gate every API of the family shares: headers, time, key, signature, a JSON body. On
/// success, the parsed body, for the API's own rules.
pub fn check_signed(
    credentials: &Credentials,
    headers: &HeaderMap,
    body: &[u8],
    now_ms: u64,
) -> Result<Value, Refusal> {
    let mut common = [
        ("accessKey", ""),
        ("action", ""),
        ("bizType", ""),
        ("sign", ""),
        ("ts", ""),
    ];
    for (name, value) in &mut common {
        *value = headers
            .get(*name)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| refuse(CODE_MISSING_HEADER, format!("missing common header {name}")))?;
    }
    let [
        (_, access_key),
        (_, action),
        (_, biz_type),
        (_, signature),
        (_, ts),
    ] = common;

    if biz_type != BIZ_TYPE_CC || action != ACTION_CC {
        return Err(refuse(
            CODE_BAD_PARAMETERS,
            format!("bizType {biz_type:?} / action {action:?} is not 8 / cc"),
        ));
    }
    let algorithm = match headers.get("algorithm") {
        None => SignAlgorithm::Md5,
        Some(value) => value
            .to_str()
            .ok()
            .and_then(SignAlgorithm::from_header_value)
            .ok_or_else(|| refuse(CODE_BAD_PARAMETERS, "algorithm must be md5 or sha256"))?,
    };

    let ts_ms = Some(ts)
        .filter(|ts| ts.len() == 13 && ts.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|ts| ts.parse::<u64>().ok())
        .ok_or_else(|| refuse(CODE_STALE_TS, "ts must be 13 digits of milliseconds"))?;
    if ts_ms.abs_diff(now_ms) > MAX_SKEW_MS {
        return Err(refuse(
            CODE_STALE_TS,
            "ts is more than 60 s away from the server's clock",
        ));
    }

    if access_key != credentials.access_key {
        return Err(refuse(CODE_BAD_ACCESS_KEY, "unknown accessKey"));
    }

    let json_content = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !json_content {
        return Err(refuse(
            CODE_BAD_SIGNATURE,
            "Content-Type must be application/json",
        ));
    }
    let expected = sign_headers(
        &[
            ("accessKey", access_key),
            ("action", action),
            ("bizType", biz_type),
            ("ts", ts),
        ],
        body,
        credentials.access_secret.expose_secret(),
        algorithm,
    );
    if signature != expected {
        return Err(refuse(
            CODE_BAD_SIGNATURE,
            format!("invalid signature ({algorithm})"),
        ));
    }

    serde_json::from_slice(body)
        .map_err(|err| refuse(CODE_BAD_BODY, format!("body is not JSON: {err}")))
}

/// The body rules of the createandcall docs: required fields present with their types, a
/// non-empty callList whose numbers are digits.
fn check_body(body: &Value) -> Result<(), String> {
    let body = body.as_object().ok_or("body must be a JSON object")?;
    for field in ["country", "taskName", "strategyName", "agentGroupNo"] {
        non_empty_string(body, field, field)?;
    }
    optional(body, "taskDesc", Value::is_string, "a string")?;
    integer_in(body, "dispatchType", 0..=2)?;
    for field in ["predictCallRate", "ratioCallRate"] {
        if !body.get(field).is_some_and(Value::is_number) {
            return Err(format!("{field} must be a number"));
        }
    }
    if !body.get("startCount").is_some_and(is_integer) {
        return Err("startCount must be an integer".into());
    }
    optional(
        body,
        "startupType",
        |v| integer_value_in(v, 0..=3),
        "an integer from 0 to 3",
    )?;

    let calls = body
        .get("callList")
        .and_then(Value::as_array)
        .ok_or("callList must be an array")?;
    if calls.is_empty() {
        return Err("callList is empty".into());
    }
    for (i, call) in calls.iter().enumerate() {
        let call = call
            .as_object()
            .ok_or_else(|| format!("callList[{i}] must be an object"))?;
        non_empty_string(call, "orderID", &format!("callList[{i}].orderID"))?;
        let phone = non_empty_string(call, "userPhone", &format!("callList[{i}].userPhone"))?;
        if !phone.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("callList[{i}].userPhone must be digits only"));
        }
        if !call.get("other").is_some_and(Value::is_string) {
            return Err(format!("callList[{i}].other must be a string"));
        }
    }
    Ok(())
}

pub(super) fn non_empty_string<'a>(
    object: &'a Map<String, Value>,
    field: &str,
    path: &str,
) -> Result<&'a str, String> {
    object
        .get(field)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
        .ok_or_else(|| format!("{path} must be a non-empty string"))
}

fn optional(
    object: &Map<String, Value>,
    field: &str,
    valid: impl Fn(&Value) -> bool,
    what: &str,
) -> Result<(), String> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(()),
        Some(value) if valid(value) => Ok(()),
        Some(_) => Err(format!("{field} must be {what}")),
    }
}

pub(super) fn integer_in(
    object: &Map<String, Value>,
    field: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<(), String> {
    match object.get(field) {
        Some(value) if integer_value_in(value, range.clone()) => Ok(()),
        _ => Err(format!(
            "{field} must be an integer from {} to {}",
            range.start(),
            range.end()
        )),
    }
}

fn is_integer(value: &Value) -> bool {
    value.is_i64() || value.is_u64()
}

fn integer_value_in(value: &Value, range: std::ops::RangeInclusive<i64>) -> bool {
    value.as_i64().is_some_and(|n| range.contains(&n))
}

#[cfg(test)]
mod tests {
    use hyper::header::HeaderValue;
    use secrecy::SecretString;
    use serde_json::json;

    use super::*;
    use crate::nxcc::sign::sign;

    const NOW: u64 = 1_700_000_000_000;

    fn creds() -> Credentials {
        Credentials::new("key", "secret")
    }

    fn good_body() -> Value {
        json!({
            "taskName": "t", "country": "HK", "strategyName": "s", "dispatchType": 0,
            "agentGroupNo": "g", "predictCallRate": 1.0, "ratioCallRate": 1.0, "startCount": 1,
            "startupType": 3, "taskDesc": "d",
            "callList": [{"orderID": "A", "userPhone": "85235757581", "other": ""}]
        })
    }

    fn signed(body: &str, ts: u64) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let secret = SecretString::from("secret");
        let signature = sign("key", ts, body, &secret, SignAlgorithm::Md5);
        for (name, value) in [
            ("accessKey", "key".to_owned()),
            ("ts", ts.to_string()),
            ("bizType", "8".to_owned()),
            ("action", "cc".to_owned()),
            ("sign", signature),
            ("content-type", "application/json; charset=utf-8".to_owned()),
        ] {
            headers.insert(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(&value).expect("value"),
            );
        }
        headers
    }

    fn code_of(body: &Value) -> i64 {
        let text = body.to_string();
        match check(&creds(), &signed(&text, NOW), text.as_bytes(), NOW) {
            Ok(_) => 0,
            Err(refusal) => refusal.code,
        }
    }

    #[test]
    fn accepts_a_good_request() {
        assert_eq!(code_of(&good_body()), 0);
    }

    #[test]
    fn ts_window_is_sixty_seconds_either_way() {
        let text = good_body().to_string();
        for (ts, ok) in [
            (NOW - 60_000, true),
            (NOW + 60_000, true),
            (NOW - 60_001, false),
            (NOW + 60_001, false),
        ] {
            let got = check(&creds(), &signed(&text, ts), text.as_bytes(), NOW);
            assert_eq!(got.is_ok(), ok, "{ts}");
        }
        let mut headers = signed(&text, NOW);
        headers.insert("ts", HeaderValue::from_static("1700000000"));
        let got = check(&creds(), &headers, text.as_bytes(), NOW).expect_err("10 digits");
        assert_eq!(got.code, CODE_STALE_TS);
    }

    #[test]
    fn body_rules_give_41000() {
        let mut cases = Vec::new();
        for field in [
            "taskName",
            "country",
            "strategyName",
            "dispatchType",
            "agentGroupNo",
            "predictCallRate",
            "ratioCallRate",
            "startCount",
            "callList",
        ] {
            let mut body = good_body();
            body.as_object_mut().expect("object").remove(field);
            cases.push(body);
        }
        for (pointer, value) in [
            ("/taskName", json!("")),
            ("/dispatchType", json!(1.5)),
            ("/dispatchType", json!(7)),
            ("/startupType", json!("3")),
            ("/startCount", json!(1.0)),
            ("/taskDesc", json!(5)),
            ("/callList", json!([])),
            ("/callList/0/userPhone", json!("+85235757581")),
            ("/callList/0/userPhone", json!("")),
            ("/callList/0/orderID", json!(7)),
            ("/callList/0/other", json!(null)),
        ] {
            let mut body = good_body();
            *body.pointer_mut(pointer).expect(pointer) = value;
            cases.push(body);
        }
        cases.push(json!([1, 2]));
        for body in cases {
            assert_eq!(code_of(&body), CODE_BAD_BODY, "{body}");
        }
    }

    #[test]
    fn optional_fields_may_be_absent_or_null() {
        let mut body = good_body();
        body.as_object_mut().expect("object").remove("startupType");
        assert_eq!(code_of(&body), 0);
        body["taskDesc"] = Value::Null;
        assert_eq!(code_of(&body), 0);
    }
}
