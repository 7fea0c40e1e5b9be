//! `state list --format json`: every task in state, for scripts (never a number).

use campaignctl::state::Attempt;
use serde::Serialize;

/// The version of this document's shape; bumped when a field changes meaning or goes away.
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonList<'a> {
    format_version: u32,
    tasks: Vec<JsonTask<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonTask<'a> {
    campaign: &'a str,
    task_name: &'a str,
    base_name: &'a str,
    /// `sending`, `created`, `rejected` or `in-doubt`.
    status: &'static str,
    number_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    req_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    forgotten: bool,
    created_at: &'a str,
    updated_at: &'a str,
}

pub fn list(attempts: &[Attempt]) -> String {
    let document = JsonList {
        format_version: FORMAT_VERSION,
        tasks: attempts
            .iter()
            .map(|a| JsonTask {
                campaign: &a.campaign,
                task_name: &a.task_name,
                base_name: &a.base_name,
                status: a.status.as_str(),
                number_count: a.number_count,
                req_id: a.req_id.as_deref(),
                code: a.code,
                message: a.message.as_deref(),
                forgotten: a.forgotten,
                created_at: &a.created_at,
                updated_at: &a.updated_at,
            })
            .collect(),
    };
    serde_json::to_string_pretty(&document).unwrap_or_default()
}
