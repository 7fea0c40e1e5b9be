//! Plans for people: one block per campaign, one line per change, numbers masked unless asked.

use std::fmt::Write as _;

use campaignctl::model::WindowRule;
use campaignctl::nxcc::CreateAndCall;
use campaignctl::phone::{NumberType, TypeCounts};
use campaignctl::plan::{Action, CampaignSummary, Change, Hold, Part, Plan};
use campaignctl::window::Hours;

use super::{escape_lines, mask, plural};

/// How many numbers of a create are shown when numbers are masked.
const SAMPLE_NUMBERS: usize = 3;

/// The plan as people read it in a terminal or a pull request.
pub fn render(plan: &Plan, show_numbers: bool) -> String {
    let mut out = String::new();
    for campaign in &plan.campaigns {
        let _ = writeln!(out, "campaign {} ({})", campaign.name, campaign.file);
        for change in plan.changes.iter().filter(|c| c.campaign == campaign.name) {
            render_change(&mut out, change, show_numbers);
        }
        let dropped = dropped(campaign);
        if !dropped.is_empty() {
            let _ = writeln!(out, "    ({})", dropped.join(", "));
        }
        if let Some(types) = types_line(&campaign.number_types) {
            let _ = writeln!(out, "    ({types})");
        }
        let _ = writeln!(out, "    ({})", guards_line(campaign));
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "{}", summary_line(plan));
    escape_lines(&out)
}

/// `numbers by type: fixedLine 3, mobile 2`, with the type names `numberTypes` takes.
pub fn types_line(counts: &TypeCounts) -> Option<String> {
    let parts: Vec<String> = counts
        .nonzero()
        .map(|(kind, count)| match kind {
            NumberType::Unknown => {
                format!("unknown {count} (accepted by `check: possible-length`)")
            }
            _ => format!("{} {count}", kind.key()),
        })
        .collect();
    (!parts.is_empty()).then(|| format!("numbers by type: {}", parts.join(", ")))
}

/// What a plan view says of numbers held by `hold`.
pub fn hold_reason(hold: &Hold) -> String {
    let at = |moment: &time::OffsetDateTime| campaignctl::clock::format(*moment);
    match hold {
        Hold::NotYet { from } => format!("the campaign may not send before {}", at(from)),
        Hold::Ended { at: end } => format!("the campaign may not send after {}", at(end)),
        Hold::Window { opens: Some(opens) } => {
            format!("outside their calling window; it opens at {}", at(opens))
        }
        Hold::Window { opens: None } => "outside their calling window; their time zones share \
            no open hour within a week"
            .to_owned(),
        Hold::UnknownZone => {
            "their time zone is unknown (set window.unknownZone, or window: any)".to_owned()
        }
        Hold::Frequency { calls, within } => {
            format!("already called {calls} time(s) within {within} (limits.perNumber)")
        }
    }
}

/// The calling rules a campaign is planned under, for the reader of any plan view:
/// `calling window 08:00-21:00 recipient local time (the default); at most 3 calls per number
/// within 24h`.
pub fn guards_line(campaign: &CampaignSummary) -> String {
    let rules = &campaign.rules;
    let mut parts = vec![match &rules.window {
        WindowRule::Default => format!(
            "calling window {}, recipient local time, for tasks that dial at once (the default)",
            Hours::default_window().describe()
        ),
        WindowRule::Any => "calling window: any (window: any), no hours are checked".to_owned(),
        WindowRule::Hours(hours) => format!(
            "calling window {}, recipient local time, for tasks that dial at once",
            hours.describe()
        ),
    }];
    for cap in &rules.caps {
        parts.push(format!(
            "at most {} per number within {} across campaigns",
            plural(
                usize::try_from(cap.calls).unwrap_or(usize::MAX),
                "call",
                "calls"
            ),
            cap.within
        ));
    }
    let at = |moment: &time::OffsetDateTime| campaignctl::clock::format(*moment);
    match (&rules.not_before, &rules.not_after) {
        (Some(from), Some(to)) => parts.push(format!("sends from {} to {}", at(from), at(to))),
        (Some(from), None) => parts.push(format!("sends from {}", at(from))),
        (None, Some(to)) => parts.push(format!("sends until {}", at(to))),
        (None, None) => {}
    }
    if let Some(cap) = campaign.max_numbers {
        parts.push(format!("maxNumbers {cap}"));
    }
    parts.join("; ")
}

/// What expansion left out of a campaign, for the reader of any plan view.
pub fn dropped(campaign: &CampaignSummary) -> Vec<String> {
    let mut dropped = Vec::new();
    if campaign.duplicates_dropped > 0 {
        dropped.push(plural(
            campaign.duplicates_dropped,
            "duplicate number dropped",
            "duplicate numbers dropped",
        ));
    }
    if campaign.excluded > 0 {
        dropped.push(plural(
            campaign.excluded,
            "number excluded",
            "numbers excluded",
        ));
    }
    dropped
}

fn render_change(out: &mut String, change: &Change, show_numbers: bool) {
    let (sign, detail) = match change.action {
        Action::Create if change.follow_up => (
            "+",
            format!(
                "{} (follow-up: only numbers never sent before; {} already sent)",
                request_size(change),
                change.already_sent
            ),
        ),
        Action::Create if change.already_sent > 0 => (
            "+",
            format!(
                "{} ({} already sent in other tasks of the campaign)",
                request_size(change),
                change.already_sent
            ),
        ),
        Action::Create => ("+", request_size(change)),
        Action::NoOp => (
            "=",
            format!(
                "nothing new ({} already sent)",
                plural(change.number_count, "number", "numbers")
            ),
        ),
        Action::Orphaned => (
            "?",
            format!(
                "in state, no longer in the files; nothing will be sent ({}). Forget it with: \
                 campaignctl state forget \"{}/{}\"",
                plural(change.number_count, "number", "numbers"),
                change.campaign,
                change.task_name
            ),
        ),
        Action::Held => (
            "~",
            format!(
                "{} held: {}",
                plural(change.number_count, "number", "numbers"),
                change.hold.as_ref().map(hold_reason).unwrap_or_default()
            ),
        ),
        Action::InDoubt => (
            "!",
            format!(
                "sent, outcome unknown: {} blocked until resolved with: campaignctl state \
                 resolve \"{}/{}\" --created|--not-created",
                plural(change.number_count, "number", "numbers"),
                change.campaign,
                change.task_name
            ),
        ),
    };
    let _ = writeln!(
        out,
        "  {sign} {:<9} {}  {detail}",
        change.action.as_str(),
        quoted(&change.task_name)
    );
    for setting in &change.settings_changed {
        let applies = if change.action == Action::Create {
            "applies to this follow-up"
        } else {
            "applies to follow-up tasks only"
        };
        let _ = writeln!(
            out,
            "      ~ {}: {} -> {} ({applies}; a created task cannot be edited)",
            setting.field, setting.before, setting.after
        );
    }
    if let Some(body) = &change.body {
        let _ = writeln!(out, "      numbers: {}", numbers_line(body, show_numbers));
    }
    if let Some(send_by) = change.send_by {
        let _ = writeln!(
            out,
            "      must leave by {} (checked again when it is sent)",
            campaignctl::clock::format(send_by)
        );
    }
}

/// `2 numbers`; for a part (its name says which) also how its task was split:
/// `2 numbers, one of 3 requests of at most 2 numbers`.
fn request_size(change: &Change) -> String {
    let numbers = plural(change.number_count, "number", "numbers");
    match change.part {
        Some(part) => format!("{numbers}, {}", part_phrase(part)),
        None => numbers,
    }
}

/// `one of 3 requests of at most 2 numbers`: how a task was split into parts.
pub fn part_phrase(part: Part) -> String {
    format!(
        "one of {} requests of at most {}",
        part.count,
        plural(part.max_size.get(), "number", "numbers")
    )
}

fn numbers_line(body: &CreateAndCall, show_numbers: bool) -> String {
    let shown = if show_numbers {
        body.call_list.len()
    } else {
        SAMPLE_NUMBERS
    };
    let mut numbers: Vec<String> = body
        .call_list
        .iter()
        .take(shown)
        .map(|item| {
            if show_numbers {
                format!("+{}", item.user_phone)
            } else {
                mask(&item.user_phone)
            }
        })
        .collect();
    if body.call_list.len() > shown {
        numbers.push(format!(
            "… {} more (--show-numbers lists them)",
            body.call_list.len() - shown
        ));
    }
    numbers.join(", ")
}

fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

fn summary_line(plan: &Plan) -> String {
    let mut line = format!(
        "Plan: {} to create, {} to dial",
        plural(plan.count(Action::Create), "task", "tasks"),
        plural(plan.numbers_to_dial(), "number", "numbers")
    );
    for (action, label) in [
        (Action::NoOp, "unchanged"),
        (Action::InDoubt, "in doubt"),
        (Action::Orphaned, "orphaned"),
    ] {
        let n = plan.count(action);
        if n > 0 {
            let _ = write!(line, ", {n} {label}");
        }
    }
    let held = plan.numbers_held();
    if held > 0 {
        let _ = write!(
            line,
            ", {} held by the calling rules",
            plural(held, "number", "numbers")
        );
    }
    line.push('.');
    line
}
