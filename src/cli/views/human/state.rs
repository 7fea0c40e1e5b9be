//! State for people: one line per task sent, with its outcome.

use std::fmt::Write as _;

use campaignctl::state::Attempt;

use super::escape_lines;

/// `state list`: task names come from templates, so the lines are escaped.
pub fn list(attempts: &[Attempt]) -> String {
    if attempts.is_empty() {
        return "State holds no tasks yet. (What `apply --sandbox` sent is in the sandbox's own \
                state: `campaignctl state list --sandbox`.)\n"
            .to_owned();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<9} {:>8}  {:<20}  TASK",
        "STATUS", "NUMBERS", "UPDATED"
    );
    for a in attempts {
        let mut status = a.status.as_str().to_owned();
        if a.forgotten {
            status.push('*');
        }
        let _ = writeln!(
            out,
            "{status:<9} {:>8}  {:<20}  {}/\"{}\"",
            a.number_count, a.updated_at, a.campaign, a.task_name
        );
    }
    if attempts.iter().any(|a| a.forgotten) {
        let _ = writeln!(
            out,
            "(* forgotten: hidden from plans, numbers still count as sent)"
        );
    }
    escape_lines(&out)
}
