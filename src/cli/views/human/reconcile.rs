//! `state reconcile` for people: one line per task in doubt, then what is left to do.

use std::fmt::Write as _;

use campaignctl::diagnostic::escape;
use campaignctl::reconcile::{Finding, Strategy, rfc3339};

use super::plural;
use super::style::paint_line;

/// The whole report; every task name and every word of the provider is escaped.
pub fn render(findings: &[Finding], strategy: Strategy, dry_run: bool) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        out.push_str("No task is in doubt; nothing to reconcile.\n");
        return out;
    }
    let settled = findings.iter().filter(|f| f.evidence.is_some()).count();
    let left = findings.len() - settled;
    let _ = writeln!(
        out,
        "Looked for call records of {} with {}.",
        plural(findings.len(), "task in doubt", "tasks in doubt"),
        strategy.api()
    );
    for finding in findings {
        let _ = writeln!(out, "{}", paint_line(&escape(&line(finding, dry_run))));
    }
    let verb = if dry_run {
        "would be settled"
    } else {
        "settled"
    };
    let _ = writeln!(
        out,
        "Reconcile finished: {} {verb} as created, {left} still in doubt.",
        settled
    );
    if left > 0 {
        out.push_str(STILL_IN_DOUBT);
    }
    if dry_run {
        out.push_str("Dry run: state was not changed.\n");
    }
    out
}

const STILL_IN_DOUBT: &str = "\
A missing call record proves nothing: a task with manual or scheduled start never dials by
itself, and the calls of a created task may not have started yet. Their numbers stay blocked.
For each task still in doubt, either run `campaignctl state reconcile` again later, or look the
task up in the NXCC console and run `campaignctl state resolve \"CAMPAIGN/TASK\" --created` if it
exists, or `--not-created` if it does not (which makes its numbers dialable again).
";

fn line(finding: &Finding, dry_run: bool) -> String {
    let attempt = &finding.suspect.attempt;
    let task = format!(
        "{}/\"{}\" ({})",
        attempt.campaign,
        attempt.task_name,
        plural(attempt.number_count as usize, "number", "numbers")
    );
    match &finding.evidence {
        Some(evidence) => {
            let verb = if dry_run {
                "would settle"
            } else {
                "created     "
            };
            format!("{verb} {task}: {}", evidence.describe())
        }
        None => {
            let suspect = &finding.suspect;
            let looked = if finding.queried > 0 {
                format!(
                    "{} queried one by one (of {})",
                    plural(finding.queried, "orderID", "orderIDs"),
                    suspect.order_ids.len()
                )
            } else {
                format!(
                    "its {}",
                    plural(suspect.order_ids.len(), "orderID", "orderIDs")
                )
            };
            format!(
                "IN DOUBT     {task}: no call record of {looked} between {} and {}",
                rfc3339(suspect.window.start),
                rfc3339(suspect.window.end)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use campaignctl::reconcile::{Evidence, Suspect, Window};
    use campaignctl::state::{Attempt, Status};

    use super::*;

    fn finding(evidence: Option<Evidence>) -> Finding {
        Finding {
            suspect: Suspect {
                attempt: Attempt {
                    id: 1,
                    campaign: "c".into(),
                    base_name: "t".into(),
                    task_name: "t\u{1b}[2J".into(),
                    settings: serde_json::Value::Null,
                    status: Status::InDoubt,
                    number_count: 2,
                    req_id: None,
                    code: None,
                    message: None,
                    forgotten: false,
                    created_at: String::new(),
                    updated_at: String::new(),
                },
                order_ids: vec!["A".into(), "B".into()],
                window: Window { start: 0, end: 60 },
            },
            evidence,
            queried: 0,
        }
    }

    #[test]
    fn the_provider_s_words_and_task_names_are_escaped() {
        let evidence = Evidence {
            api: "cdr/page",
            req_id: Some("r\u{202e}1".into()),
            order_id: "A".into(),
            task_id: "T\u{7}".into(),
            start_time: 0,
            record: serde_json::Value::Null,
        };
        // The colours are stripped; what the provider said must remain, as escaped text.
        let painted = render(&[finding(Some(evidence))], Strategy::Page, false);
        let text = anstream::adapter::strip_str(&painted).to_string();
        for raw in ["t\u{1b}[2J", "T\u{7}", "r\u{202e}1"] {
            assert!(text.contains(&*escape(raw)), "{raw:?} not escaped: {text}");
        }
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(
            text.contains("1 settled as created, 0 still in doubt"),
            "{text}"
        );
        assert!(
            !text.contains("state resolve"),
            "nothing left to resolve: {text}"
        );
    }

    #[test]
    fn what_stays_in_doubt_comes_with_what_a_person_can_do() {
        let text = render(&[finding(None)], Strategy::Page, true);
        assert!(text.contains("IN DOUBT"), "{text}");
        assert!(text.contains("no call record of its 2 orderIDs"), "{text}");
        assert!(text.contains("state resolve"), "{text}");
        assert!(text.contains("Dry run: state was not changed."), "{text}");
        assert_eq!(
            render(&[], Strategy::Page, false),
            "No task is in doubt; nothing to reconcile.\n"
        );
    }
}
