//! `state reconcile --format json`: what was settled and what is still in doubt. The records'
//! full text stays in state: it may hold what the provider knows of the person called.

use campaignctl::reconcile::{Finding, Strategy, Window};
use serde::Serialize;

/// The version of this document's shape; bumped when a field changes meaning or goes away.
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport<'a> {
    format_version: u32,
    dry_run: bool,
    query: &'static str,
    summary: JsonSummary,
    settled: Vec<JsonSettled<'a>>,
    in_doubt: Vec<JsonInDoubt<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonSummary {
    settled: usize,
    in_doubt: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonSettled<'a> {
    campaign: &'a str,
    task_name: &'a str,
    number_count: i64,
    order_id: &'a str,
    task_id: &'a str,
    start_time: i64,
    req_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonInDoubt<'a> {
    campaign: &'a str,
    task_name: &'a str,
    number_count: i64,
    window: Window,
    #[serde(skip_serializing_if = "is_zero")]
    order_ids_queried: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

pub fn render(findings: &[Finding], strategy: Strategy, dry_run: bool) -> String {
    let (proven, open): (Vec<&Finding>, Vec<&Finding>) =
        findings.iter().partition(|f| f.evidence.is_some());
    let settled: Vec<JsonSettled> = proven
        .iter()
        .filter_map(|f| {
            let evidence = f.evidence.as_ref()?;
            let attempt = &f.suspect.attempt;
            Some(JsonSettled {
                campaign: &attempt.campaign,
                task_name: &attempt.task_name,
                number_count: attempt.number_count,
                order_id: &evidence.order_id,
                task_id: &evidence.task_id,
                start_time: evidence.start_time,
                req_id: evidence.req_id.as_deref(),
            })
        })
        .collect();
    let in_doubt: Vec<JsonInDoubt> = open
        .iter()
        .map(|f| JsonInDoubt {
            campaign: &f.suspect.attempt.campaign,
            task_name: &f.suspect.attempt.task_name,
            number_count: f.suspect.attempt.number_count,
            window: f.suspect.window,
            order_ids_queried: f.queried,
        })
        .collect();
    let report = JsonReport {
        format_version: FORMAT_VERSION,
        dry_run,
        query: strategy.api(),
        summary: JsonSummary {
            settled: settled.len(),
            in_doubt: in_doubt.len(),
        },
        settled,
        in_doubt,
    };
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}
