//! Apply results for people and CI logs: one line per finished request, then a summary.

use campaignctl::apply::{Summary, TaskOutcome, TaskReport};
use campaignctl::diagnostic::escape;

/// The line of one finished request; task names and the provider's words are escaped.
pub fn report_line(report: &TaskReport) -> String {
    super::style::paint_line(&escape(&outcome_line(report)))
}

fn outcome_line(report: &TaskReport) -> String {
    let task = format!(
        "{}/\"{}\" ({} numbers)",
        report.campaign, report.task_name, report.numbers
    );
    match &report.outcome {
        TaskOutcome::Created { req_id: Some(id) } => format!("created    {task}, reqId {id}"),
        TaskOutcome::Created { req_id: None } => format!("created    {task}"),
        TaskOutcome::Rejected {
            code: Some(code),
            message,
        } => format!(
            "rejected   {task}: code {code}: {message} (nothing was created; the numbers can be \
             planned again)"
        ),
        TaskOutcome::Rejected {
            code: None,
            message,
        } => format!("rejected   {task}: {message} (nothing was created)"),
        TaskOutcome::InDoubt { reason } => format!(
            "IN DOUBT   {task}: {reason}; its numbers will not be sent again until `campaignctl \
             state resolve \"{}/{}\" --created|--not-created`",
            report.campaign, report.task_name
        ),
        TaskOutcome::NotStarted { reason } => format!("not sent   {task}: {reason}"),
    }
}

pub fn summary_line(summary: &Summary) -> String {
    super::style::paint_line(&format!(
        "Apply finished: {} created ({} numbers), {} rejected, {} in doubt, {} not sent.",
        summary.created,
        summary.numbers_created,
        summary.rejected,
        summary.in_doubt,
        summary.not_started
    ))
}
