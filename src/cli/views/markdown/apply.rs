//! An apply's results as a GitHub job summary: the counts, then one row per request.

use std::fmt::Write as _;

use campaignctl::apply::{Summary, TaskOutcome, TaskReport};

use super::{code, fit};

pub fn render(reports: &[TaskReport], summary: &Summary, in_doubt: usize) -> String {
    let mut out = format!(
        "## campaignctl apply\n\n**{} created ({} numbers), {} rejected, {} in doubt, {} not \
         sent**\n\n",
        summary.created,
        summary.numbers_created,
        summary.rejected,
        summary.in_doubt,
        summary.not_started
    );
    if in_doubt > 0 {
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> {in_doubt} task(s) of these campaigns are in doubt: their numbers \
             are held until a person runs `campaignctl state resolve CAMPAIGN/TASK \
             --created|--not-created`.\n"
        );
    }
    if !reports.is_empty() {
        let _ = writeln!(
            out,
            "| outcome | campaign | task | numbers | details |\n|---|---|---|---:|---|"
        );
    }
    for report in reports {
        let (outcome, details) = match &report.outcome {
            TaskOutcome::Created { req_id } => (
                "✅ created",
                req_id
                    .as_deref()
                    .map(|id| format!("reqId {}", code(id)))
                    .unwrap_or_default(),
            ),
            TaskOutcome::Rejected {
                code: Some(c),
                message,
            } => ("❌ rejected", format!("code {c}: {}", code(message))),
            TaskOutcome::Rejected {
                code: None,
                message,
            } => ("❌ rejected", code(message)),
            TaskOutcome::InDoubt { reason } => ("⚠️ in doubt", code(reason)),
            TaskOutcome::NotStarted { reason } => ("⏸️ not sent", code(reason)),
        };
        let _ = writeln!(
            out,
            "| {outcome} | {} | {} | {} | {details} |",
            code(&report.campaign),
            code(&report.task_name),
            report.numbers
        );
    }
    fit(out)
}
