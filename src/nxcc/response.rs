//! The provider's answer, `{"reqId", "code", "msg", "data"}`, and what its codes mean.

use serde::{Deserialize, Serialize};

/// Success: the task was created.
pub const CODE_OK: i64 = 0;
/// A common header (accessKey, ts, bizType, action, sign) is missing.
pub const CODE_MISSING_HEADER: i64 = 1001;
/// Wrong bizType/action, or bad parameters.
pub const CODE_BAD_PARAMETERS: i64 = 1002;
/// The signature does not match.
pub const CODE_BAD_SIGNATURE: i64 = 1003;
/// `ts` is not within 60 s of the provider's clock: sign again with a fresh `ts`.
pub const CODE_STALE_TS: i64 = 1004;
/// Unknown access key, or no permission.
pub const CODE_BAD_ACCESS_KEY: i64 = 1005;
/// A body parameter is wrong or empty.
pub const CODE_BAD_BODY: i64 = 41000;
/// "Request failed": the docs do not say whether the task was created.
pub const CODE_REQUEST_FAILED: i64 = 88;
/// "System error": the docs do not say whether the task was created.
pub const CODE_SYSTEM_ERROR: i64 = 99;

/// True for the codes the docs define as "the task was not created". Every other non-zero code
/// leaves the outcome unknown.
pub fn is_rejection(code: i64) -> bool {
    matches!(
        code,
        CODE_MISSING_HEADER
            | CODE_BAD_PARAMETERS
            | CODE_BAD_SIGNATURE
            | CODE_STALE_TS
            | CODE_BAD_ACCESS_KEY
            | CODE_BAD_BODY
    )
}

/// True for the HTTP statuses that say the request was refused for its size before anything
/// read it: 413 (body too large), 414 (URI too long), 431 (header fields too large). Whoever
/// answers them (the provider, or a proxy in front of it) has not passed the request on, so,
/// like a documented rejection, it proves no task was created. Every other non-2xx status
/// leaves the outcome unknown. (docs/decisions.md, "Too large is not unknown".)
pub fn is_refused_unread(status: u16) -> bool {
    matches!(status, 413 | 414 | 431)
}

/// One answer of the provider. No task id ever comes back; `reqId` identifies the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiResponse {
    #[serde(rename = "reqId", default)]
    pub req_id: Option<String>,
    pub code: i64,
    #[serde(default)]
    pub msg: Option<String>,
    #[serde(default)]
    pub data: serde_json::Value,
}

impl ApiResponse {
    /// Reads an answer, leniently where leniency cannot change its meaning: `reqId` may be a
    /// string or a number, `msg` and `data` may be missing. `code` must be an integer.
    pub fn parse(bytes: &[u8]) -> Result<ApiResponse, String> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|err| format!("answer is not JSON: {err}"))?;
        let Some(object) = value.as_object() else {
            return Err("answer is not a JSON object".to_owned());
        };
        let code = object
            .get("code")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| "answer has no integer \"code\"".to_owned())?;
        let req_id = match object.get("reqId") {
            Some(serde_json::Value::String(id)) => Some(id.clone()),
            Some(serde_json::Value::Number(id)) => Some(id.to_string()),
            _ => None,
        };
        let msg = object
            .get("msg")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let data = object.get("data").cloned().unwrap_or_default();
        Ok(ApiResponse {
            req_id,
            code,
            msg,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shape() {
        let got = ApiResponse::parse(br#"{"reqId":"abc","code":0,"msg":"ok","data":null}"#)
            .expect("valid");
        assert_eq!(
            got,
            ApiResponse {
                req_id: Some("abc".into()),
                code: 0,
                msg: Some("ok".into()),
                data: serde_json::Value::Null,
            }
        );
    }

    #[test]
    fn tolerates_numeric_req_id_and_missing_fields() {
        let got = ApiResponse::parse(br#"{"reqId":42,"code":1003}"#).expect("valid");
        assert_eq!(got.req_id.as_deref(), Some("42"));
        assert_eq!(got.code, 1003);
        assert_eq!(got.msg, None);
    }

    #[test]
    fn rejects_what_cannot_be_read() {
        for bad in [
            &b""[..],
            b"<html>",
            b"[]",
            br#"{"code":"0"}"#,
            br#"{"code":0.5}"#,
            br#"{"msg":"ok"}"#,
        ] {
            assert!(
                ApiResponse::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn only_documented_rejections_are_rejections() {
        for code in [1001, 1002, 1003, 1004, 1005, 41000] {
            assert!(is_rejection(code), "{code}");
        }
        for code in [0, 88, 99, 1000, 1006, 40000, 41001, -1] {
            assert!(!is_rejection(code), "{code}");
        }
    }

    #[test]
    fn only_size_refusals_are_refused_unread() {
        for status in [413, 414, 431] {
            assert!(is_refused_unread(status), "{status}");
        }
        for status in [200, 400, 408, 429, 500, 502, 503, 504] {
            assert!(!is_refused_unread(status), "{status}");
        }
    }
}
