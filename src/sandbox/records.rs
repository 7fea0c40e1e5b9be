//! The sandbox's call records: `cdr/page` and `cdr/queryByOrderId`, answered from the tasks it
//! accepted. A task with `startupType` 3 (immediate start) calls every number of its callList
//! [`RecordsConfig::calls_after`] after it was accepted; any other task never calls, as nobody
//! starts it by hand here.

use std::time::Duration;

use hyper::Request;
use hyper::body::Incoming;
use serde_json::{Map, Value, json};

use super::check::{check_signed, integer_in, non_empty_string, refuse};
use super::fault::{self, Answer, Fault};
use super::{Answered, RecordedTask, Shared, now_millis, read_body, reply};
use crate::nxcc::records::{DIRECTION_AI, MAX_PAGE_SIZE};
use crate::nxcc::response::{CODE_BAD_ACCESS_KEY, CODE_BAD_BODY, CODE_OK};

/// The tenant id the sandbox belongs to unless told otherwise.
pub const DEFAULT_TENANT_ID: u64 = 1;

/// `startupType` of a task that starts dialing as soon as it is created.
const IMMEDIATE_START: i64 = 3;

/// How the sandbox keeps and serves call records.
#[derive(Clone, Debug)]
pub struct RecordsConfig {
    /// How long after an immediate-start task is accepted its calls appear.
    pub calls_after: Duration,
    /// The only `tenantId` that `cdr/queryByOrderId` accepts.
    pub tenant_id: u64,
    /// Faults for the records APIs, numbered apart from createandcall's: both records APIs
    /// count together from 1.
    pub faults: Vec<Fault>,
}

impl Default for RecordsConfig {
    fn default() -> Self {
        RecordsConfig {
            calls_after: Duration::ZERO,
            tenant_id: DEFAULT_TENANT_ID,
            faults: Vec::new(),
        }
    }
}

/// Which records API a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Api {
    Page,
    ByOrderId,
}

/// Answers one records request: a fault if one is armed for it, else the provider's checks,
/// then the records.
pub(super) async fn answer(shared: &Shared, request: Request<Incoming>, api: Api) -> Answered {
    let (parts, body) = request.into_parts();
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let now_ms = now_millis();
    let (number, fault) = {
        let mut inner = shared.lock();
        inner.records_received += 1;
        let number = inner.records_received;
        (
            number,
            fault::fault_for(&inner.records.faults, number).copied(),
        )
    };
    let req_id = shared.req_id_in(b"records", number);
    let (answer, msg, data) = match fault.and_then(|fault| fault.answer) {
        Some(answer) => (answer, "injected fault".to_owned(), Value::Null),
        None => match check_signed(&shared.credentials, &parts.headers, &body, now_ms).and_then(
            |query| {
                let inner = shared.lock();
                let calls = || calls(&inner.tasks, inner.records.calls_after, now_ms);
                match api {
                    Api::Page => page(&query, calls()),
                    Api::ByOrderId => by_order_id(&query, inner.records.tenant_id, calls()),
                }
            },
        ) {
            Ok(data) => (Answer::Code(CODE_OK), "success".to_owned(), data),
            Err(refusal) => (Answer::Code(refusal.code), refusal.msg, Value::Null),
        },
    };
    reply(fault, answer, req_id, msg, data).await
}

/// Every call made so far, in the order the tasks were accepted.
fn calls(
    tasks: &[RecordedTask],
    calls_after: Duration,
    now_ms: u64,
) -> impl Iterator<Item = Value> + '_ {
    let after_ms = u64::try_from(calls_after.as_millis()).unwrap_or(u64::MAX);
    tasks
        .iter()
        .filter(|task| task.body["startupType"].as_i64() == Some(IMMEDIATE_START))
        .filter_map(move |task| {
            let started_ms = task.received_ms.saturating_add(after_ms);
            (started_ms <= now_ms).then_some((task, started_ms / 1000))
        })
        .flat_map(|(task, started)| {
            let items = task.body["callList"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            items.into_iter().map(move |item| {
                json!({
                    "orderId": item["orderID"],
                    "other": item["other"],
                    "taskId": format!("SBX{:06}", task.request),
                    "callStatus": 1,
                    "answered": true,
                    "direction": DIRECTION_AI,
                    "startTime": started,
                })
            })
        })
}

/// `cdr/page`: the calls that started between `startTime` and `endTime` (seconds, both
/// included), of `direction` when given, one page of them.
fn page(query: &Value, calls: impl Iterator<Item = Value>) -> Result<Value, super::check::Refusal> {
    let bad = |msg: String| refuse(CODE_BAD_BODY, msg);
    let query = query
        .as_object()
        .ok_or_else(|| bad("body must be a JSON object".into()))?;
    let start = seconds(query, "startTime").map_err(bad)?;
    let end = seconds(query, "endTime").map_err(bad)?;
    if start > end {
        return Err(bad("startTime is after endTime".into()));
    }
    integer_in(query, "page", 1..=i64::from(u32::MAX)).map_err(bad)?;
    integer_in(query, "size", 1..=i64::from(MAX_PAGE_SIZE)).map_err(bad)?;
    let direction = match query.get("direction") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_i64()
                .ok_or_else(|| bad("direction must be an integer".into()))?,
        ),
    };
    let page = query["page"].as_u64().unwrap_or(1);
    let size = query["size"].as_u64().unwrap_or(1);
    let matching: Vec<Value> = calls
        .filter(|call| {
            call["startTime"]
                .as_i64()
                .is_some_and(|at| (start..=end).contains(&at))
        })
        .filter(|call| direction.is_none_or(|d| call["direction"].as_i64() == Some(d)))
        .collect();
    let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let records: Vec<&Value> = matching
        .iter()
        .skip(skip)
        .take(usize::try_from(size).unwrap_or(usize::MAX))
        .collect();
    Ok(json!({
        "total": matching.len(),
        "current": page,
        "size": size,
        "records": records,
    }))
}

/// `cdr/queryByOrderId`: the calls of one orderID, for the sandbox's own tenant only.
fn by_order_id(
    query: &Value,
    tenant_id: u64,
    calls: impl Iterator<Item = Value>,
) -> Result<Value, super::check::Refusal> {
    let bad = |msg: String| refuse(CODE_BAD_BODY, msg);
    let query = query
        .as_object()
        .ok_or_else(|| bad("body must be a JSON object".into()))?;
    let asked = query
        .get("tenantId")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("tenantId must be a whole number".into()))?;
    let order_id = non_empty_string(query, "orderId", "orderId").map_err(bad)?;
    if asked != tenant_id {
        return Err(refuse(
            CODE_BAD_ACCESS_KEY,
            "this accessKey has no permission for that tenantId",
        ));
    }
    let records: Vec<Value> = calls
        .filter(|call| call["orderId"].as_str() == Some(order_id))
        .collect();
    Ok(Value::Array(records))
}

fn seconds(query: &Map<String, Value>, field: &str) -> Result<i64, String> {
    query
        .get(field)
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("{field} must be a whole number of seconds"))
}

/// Faults for the records APIs: `record` means nothing there, since no task is created.
pub fn parse_fault(spec: &str) -> Result<Fault, String> {
    let fault: Fault = spec
        .parse()
        .map_err(|err: fault::FaultSpecError| err.to_string())?;
    if fault.record {
        return Err(format!(
            "invalid records fault `{spec}`: `record` applies to createandcall only"
        ));
    }
    Ok(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: u64 = 1_800_000_100_000;

    fn task(request: u64, startup: i64, received_ms: u64, order_ids: &[&str]) -> RecordedTask {
        let calls: Vec<Value> = order_ids
            .iter()
            .map(|id| json!({"orderID": id, "userPhone": "447700900001", "other": "o"}))
            .collect();
        RecordedTask {
            req_id: format!("r{request}"),
            received_at: String::new(),
            received_ms,
            request,
            body: json!({"startupType": startup, "callList": calls}),
        }
    }

    fn tasks() -> Vec<RecordedTask> {
        vec![
            task(1, 3, NOW_MS - 10_000, &["A", "B"]),
            task(2, 1, NOW_MS - 10_000, &["C"]),
            task(3, 3, NOW_MS - 1_000, &["D"]),
        ]
    }

    fn order_ids(records: &Value) -> Vec<&str> {
        records
            .as_array()
            .expect("array")
            .iter()
            .map(|r| r["orderId"].as_str().expect("orderId"))
            .collect()
    }

    #[test]
    fn only_immediate_tasks_call_and_only_after_the_delay() {
        let tasks = tasks();
        let now: Vec<Value> = calls(&tasks, Duration::from_secs(5), NOW_MS).collect();
        assert_eq!(order_ids(&Value::Array(now.clone())), ["A", "B"]);
        assert_eq!(now[0]["taskId"], "SBX000001");
        assert_eq!(now[0]["startTime"], (NOW_MS - 5_000) / 1000);
        assert_eq!(calls(&tasks, Duration::ZERO, NOW_MS).count(), 3);
    }

    #[test]
    fn a_page_is_filtered_by_time_and_cut_by_size() {
        let tasks = tasks();
        let all = || calls(&tasks, Duration::ZERO, NOW_MS);
        let start = (NOW_MS / 1000 - 100) as i64;
        let query = |page: u64, size: u64, end: i64| json!({"startTime": start, "endTime": end, "page": page, "size": size, "direction": 3});
        let end = (NOW_MS / 1000) as i64;
        let first = page(&query(1, 2, end), all()).expect("page 1");
        assert_eq!(first["total"], 3);
        assert_eq!(order_ids(&first["records"]), ["A", "B"]);
        let second = page(&query(2, 2, end), all()).expect("page 2");
        assert_eq!(order_ids(&second["records"]), ["D"]);
        let early = page(&query(1, 100, end - 5), all()).expect("earlier");
        assert_eq!(order_ids(&early["records"]), ["A", "B"]);
        for bad in [
            query(0, 10, end),
            query(1, 101, end),
            query(1, 10, start - 1),
            json!({"startTime": "x", "endTime": end, "page": 1, "size": 1}),
        ] {
            assert_eq!(
                page(&bad, all()).expect_err("bad").code,
                CODE_BAD_BODY,
                "{bad}"
            );
        }
    }

    #[test]
    fn by_order_id_needs_the_tenant() {
        let tasks = tasks();
        let all = || calls(&tasks, Duration::ZERO, NOW_MS);
        let found = by_order_id(&json!({"tenantId": 9, "orderId": "B"}), 9, all()).expect("ok");
        assert_eq!(order_ids(&found), ["B"]);
        let none = by_order_id(&json!({"tenantId": 9, "orderId": "C"}), 9, all()).expect("ok");
        assert_eq!(none, json!([]));
        let wrong = by_order_id(&json!({"tenantId": 8, "orderId": "B"}), 9, all());
        assert_eq!(wrong.expect_err("tenant").code, CODE_BAD_ACCESS_KEY);
        let missing = by_order_id(&json!({"orderId": "B"}), 9, all());
        assert_eq!(missing.expect_err("no tenant").code, CODE_BAD_BODY);
    }

    #[test]
    fn records_faults_refuse_record() {
        assert!(parse_fault("1=http:500").is_ok());
        assert!(
            parse_fault("1=drop+record")
                .unwrap_err()
                .contains("createandcall only")
        );
        assert!(parse_fault("1=").is_err());
    }
}
