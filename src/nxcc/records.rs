//! The provider's call records: `cdr/page` (the account's AI calls in a time window, page by page)
//! and `cdr/queryByOrderId` (the calls of one orderID). Signed and sent like createandcall, by the
//! same [`Client`]; only reads, so nothing here can dial anybody.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::{Client, Exchange};
use super::response::{
    ApiResponse, CODE_BAD_ACCESS_KEY, CODE_BAD_BODY, CODE_BAD_PARAMETERS, CODE_BAD_SIGNATURE,
    CODE_MISSING_HEADER, CODE_OK, CODE_REQUEST_FAILED, CODE_STALE_TS, CODE_SYSTEM_ERROR,
};

/// Call records in a time window, page by page.
pub const CDR_PAGE_PATH: &str = "/saas/cc/openapi/cdr/page";
/// The call records of one orderID.
pub const CDR_BY_ORDER_ID_PATH: &str = "/saas/cc/openapi/cdr/queryByOrderId";
/// `direction` of AI outbound calls, the only ones createandcall makes.
pub const DIRECTION_AI: i64 = 3;
/// The largest page `cdr/page` documents.
pub const MAX_PAGE_SIZE: u32 = 100;

/// The body of a `cdr/page` request. Times are seconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageQuery {
    pub start_time: i64,
    pub end_time: i64,
    /// 1-based.
    pub page: u32,
    pub size: u32,
    pub direction: i64,
}

/// The body of a `cdr/queryByOrderId` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderIdQuery {
    pub tenant_id: u64,
    pub order_id: String,
}

/// One call record: the fields that can prove something, and the record as received.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    pub order_id: Option<String>,
    /// A string or a number in the answer; kept as text.
    pub task_id: Option<String>,
    /// When the call started, in seconds since the epoch.
    pub start_time: Option<i64>,
    /// The whole record, kept as evidence.
    pub raw: Value,
}

/// The records of one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Records {
    pub req_id: Option<String>,
    pub records: Vec<CallRecord>,
    /// How many records match the query in all, when the answer says.
    pub total: Option<u64>,
}

/// Why a query for call records gave no records to judge by.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("{api}: cannot reach the provider: {reason}")]
    NotConnected { api: &'static str, reason: String },

    #[error("{api}: no complete answer from the provider: {reason}")]
    Lost { api: &'static str, reason: String },

    #[error("{api}: the provider answered HTTP {status}")]
    Http { api: &'static str, status: u16 },

    #[error("{api}: the provider refused the query with code {code}{}: {}", msg_suffix(.msg), hint(*.code))]
    Refused {
        api: &'static str,
        code: i64,
        msg: Option<String>,
    },

    #[error("{api}: the answer cannot be read: {reason}")]
    Unreadable { api: &'static str, reason: String },
}

fn msg_suffix(msg: &Option<String>) -> String {
    msg.as_ref()
        .map(|msg| format!(" ({msg})"))
        .unwrap_or_default()
}

/// What a person can do about a refusal, by its code.
fn hint(code: i64) -> &'static str {
    match code {
        CODE_BAD_SIGNATURE => {
            "the signature does not match; check NXCC_ACCESS_SECRET and --sign-algorithm"
        }
        CODE_BAD_ACCESS_KEY => {
            "the access key is unknown or may not read these records; check NXCC_ACCESS_KEY \
             and the tenant id"
        }
        CODE_STALE_TS => "this machine's clock is more than 60 s away from the provider's",
        CODE_MISSING_HEADER | CODE_BAD_PARAMETERS | CODE_BAD_BODY => {
            "the provider did not accept the query's parameters"
        }
        CODE_REQUEST_FAILED | CODE_SYSTEM_ERROR => "a provider error; try again later",
        _ => "a code the provider does not document",
    }
}

impl Client {
    /// One page of the account's AI call records between `query.start_time` and `end_time`.
    pub async fn cdr_page(&self, query: &PageQuery) -> Result<Records, RecordsError> {
        self.records("cdr/page", CDR_PAGE_PATH, query).await
    }

    /// The call records of one orderID.
    pub async fn cdr_by_order_id(&self, query: &OrderIdQuery) -> Result<Records, RecordsError> {
        self.records("cdr/queryByOrderId", CDR_BY_ORDER_ID_PATH, query)
            .await
    }

    async fn records(
        &self,
        api: &'static str,
        path: &str,
        query: &impl Serialize,
    ) -> Result<Records, RecordsError> {
        let body = serde_json::to_string(query).unwrap_or_default();
        match self.post(self.url_for(path), &body).await {
            Exchange::NotConnected(reason) => Err(RecordsError::NotConnected { api, reason }),
            Exchange::Lost(reason) => Err(RecordsError::Lost { api, reason }),
            Exchange::Answered { status, .. } if !status.is_success() => Err(RecordsError::Http {
                api,
                status: status.as_u16(),
            }),
            Exchange::Answered { answer, .. } => read_answer(api, &answer),
        }
    }
}

/// Reads an answer of either API. Strict: an answer of a shape not understood is an error, never
/// "no records", since a person could take "no records" as a sign that nothing was dialed.
pub fn read_answer(api: &'static str, answer: &[u8]) -> Result<Records, RecordsError> {
    let unreadable = |reason: String| RecordsError::Unreadable { api, reason };
    let response = ApiResponse::parse(answer).map_err(unreadable)?;
    if response.code != CODE_OK {
        return Err(RecordsError::Refused {
            api,
            code: response.code,
            msg: response.msg,
        });
    }
    let (items, total) = match &response.data {
        Value::Array(items) => (items, None),
        Value::Object(page) => {
            let items = ["records", "list"]
                .iter()
                .find_map(|key| page.get(*key).and_then(Value::as_array))
                .ok_or_else(|| unreadable("\"data\" holds no \"records\" array".to_owned()))?;
            let total = match page.get("total") {
                None | Some(Value::Null) => None,
                Some(total) => Some(total.as_u64().ok_or_else(|| {
                    unreadable("\"data.total\" is not a whole number".to_owned())
                })?),
            };
            (items, total)
        }
        _ => {
            return Err(unreadable(
                "\"data\" is neither a list of records nor a page of them".to_owned(),
            ));
        }
    };
    let records = items
        .iter()
        .enumerate()
        .map(|(i, item)| read_record(item).map_err(|why| unreadable(format!("record {i}: {why}"))))
        .collect::<Result<_, _>>()?;
    Ok(Records {
        req_id: response.req_id,
        records,
        total,
    })
}

fn read_record(item: &Value) -> Result<CallRecord, String> {
    let record = item.as_object().ok_or("not an object")?;
    let field = |name: &str| record.get(name).filter(|value| !value.is_null());
    let order_id = match field("orderId") {
        None => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return Err("\"orderId\" is not a string".to_owned()),
    };
    let task_id = match field("taskId") {
        None => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(Value::Number(id)) => Some(id.to_string()),
        Some(_) => return Err("\"taskId\" is neither a string nor a number".to_owned()),
    };
    let start_time = match field("startTime") {
        None => None,
        Some(time) => Some(
            time.as_i64()
                .ok_or("\"startTime\" is not a whole number of seconds")?,
        ),
    };
    Ok(CallRecord {
        order_id,
        task_id,
        start_time,
        raw: item.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(answer: &str) -> Result<Records, RecordsError> {
        read_answer("cdr/page", answer.as_bytes())
    }

    #[test]
    fn reads_a_page_and_a_list() {
        let page = read(
            r#"{"reqId":"r","code":0,"data":{"total":3,"records":[
                {"orderId":"A","taskId":17,"startTime":1700000000,"callStatus":1,"answered":true},
                {"orderId":null,"other":"x"}]}}"#,
        )
        .expect("page");
        assert_eq!(page.total, Some(3));
        assert_eq!(page.req_id.as_deref(), Some("r"));
        assert_eq!(page.records[0].order_id.as_deref(), Some("A"));
        assert_eq!(page.records[0].task_id.as_deref(), Some("17"));
        assert_eq!(page.records[0].start_time, Some(1_700_000_000));
        assert_eq!(page.records[1].order_id, None);
        let list = read(r#"{"code":0,"data":[{"orderId":"B","taskId":"t"}]}"#).expect("list");
        assert_eq!(list.records.len(), 1);
        assert_eq!(list.total, None);
        let empty = read(r#"{"code":0,"data":{"list":[]}}"#).expect("empty");
        assert!(empty.records.is_empty());
    }

    #[test]
    fn a_code_is_a_refusal_with_a_hint() {
        let err = read(r#"{"code":1005,"msg":"no permission"}"#).expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("code 1005 (no permission)"), "{text}");
        assert!(text.contains("NXCC_ACCESS_KEY"), "{text}");
        assert!(matches!(
            read(r#"{"code":99}"#),
            Err(RecordsError::Refused { code: 99, .. })
        ));
    }

    #[test]
    fn an_answer_of_another_shape_is_an_error_not_an_empty_list() {
        for bad in [
            "",
            "<html>",
            r#"{"code":0}"#,
            r#"{"code":0,"data":null}"#,
            r#"{"code":0,"data":{"total":1}}"#,
            r#"{"code":0,"data":{"records":[],"total":-1}}"#,
            r#"{"code":0,"data":[1]}"#,
            r#"{"code":0,"data":[{"orderId":5}]}"#,
            r#"{"code":0,"data":[{"orderId":"A","taskId":[]}]}"#,
            r#"{"code":0,"data":[{"orderId":"A","startTime":"soon"}]}"#,
        ] {
            assert!(
                matches!(read(bad), Err(RecordsError::Unreadable { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn queries_serialize_with_the_documented_names() {
        let page = PageQuery {
            start_time: 1,
            end_time: 2,
            page: 1,
            size: MAX_PAGE_SIZE,
            direction: DIRECTION_AI,
        };
        assert_eq!(
            serde_json::to_string(&page).unwrap(),
            r#"{"startTime":1,"endTime":2,"page":1,"size":100,"direction":3}"#
        );
        let one = OrderIdQuery {
            tenant_id: 7,
            order_id: "A".into(),
        };
        assert_eq!(
            serde_json::to_string(&one).unwrap(),
            r#"{"tenantId":7,"orderId":"A"}"#
        );
    }
}
