//! `apply --format json`: what happened to each request, and what is left in doubt.

use campaignctl::apply::{Summary, TaskOutcome, TaskReport};
use serde::Serialize;

/// The version of this document's shape; bumped when a field changes meaning or goes away.
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonApply<'a> {
    format_version: u32,
    summary: JsonSummary,
    tasks: Vec<JsonTask<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonSummary {
    created: usize,
    numbers_created: usize,
    rejected: usize,
    in_doubt: usize,
    not_sent: usize,
    /// Tasks of the applied campaigns in doubt after the run, this run's and earlier ones.
    in_doubt_in_state: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonTask<'a> {
    campaign: &'a str,
    task_name: &'a str,
    number_count: usize,
    /// `created`, `rejected`, `in-doubt` or `not-sent`.
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    req_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

impl<'a> JsonTask<'a> {
    fn of(report: &'a TaskReport) -> Self {
        let (outcome, req_id, code, message) = match &report.outcome {
            TaskOutcome::Created { req_id } => ("created", req_id.as_deref(), None, None),
            TaskOutcome::Rejected { code, message } => {
                ("rejected", None, *code, Some(message.as_str()))
            }
            TaskOutcome::InDoubt { reason } => ("in-doubt", None, None, Some(reason.as_str())),
            TaskOutcome::NotStarted { reason } => ("not-sent", None, None, Some(reason.as_str())),
        };
        JsonTask {
            campaign: &report.campaign,
            task_name: &report.task_name,
            number_count: report.numbers,
            outcome,
            req_id,
            code,
            message,
        }
    }
}

pub fn render(reports: &[TaskReport], summary: &Summary, in_doubt_in_state: usize) -> String {
    let document = JsonApply {
        format_version: FORMAT_VERSION,
        summary: JsonSummary {
            created: summary.created,
            numbers_created: summary.numbers_created,
            rejected: summary.rejected,
            in_doubt: summary.in_doubt,
            not_sent: summary.not_started,
            in_doubt_in_state,
        },
        tasks: reports.iter().map(JsonTask::of).collect(),
    };
    serde_json::to_string_pretty(&document).unwrap_or_default()
}
