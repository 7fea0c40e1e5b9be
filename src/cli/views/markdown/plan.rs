//! A plan as a pull-request comment: a summary line, one section and table per campaign, the
//! guards and tasks in doubt called out; numbers masked.

use std::fmt::Write as _;

use campaignctl::plan::{Action, Change, Plan};

use super::{code, fit};
use crate::cli::views::human::plan::{dropped, guards_line, hold_reason, part_phrase, types_line};
use crate::cli::views::human::{mask, plural};

/// How many numbers of a create are shown, masked.
const SAMPLE_NUMBERS: usize = 3;

pub fn render(plan: &Plan) -> String {
    let mut out = String::from("## campaignctl plan\n\n");
    let _ = writeln!(
        out,
        "**{} to create, {} to dial**{}\n",
        plural(plan.count(Action::Create), "task", "tasks"),
        plural(plan.numbers_to_dial(), "number", "numbers"),
        others(plan)
    );
    let in_doubt = plan.count(Action::InDoubt);
    if in_doubt > 0 {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> {} in doubt: sent before with an unknown outcome. Their numbers are \
             held until a person checks the NXCC console and runs `campaignctl state resolve \
             CAMPAIGN/TASK --created` or `--not-created`.\n",
            plural(in_doubt, "task is", "tasks are")
        );
    }
    for campaign in &plan.campaigns {
        let _ = writeln!(
            out,
            "### Campaign {} ({})\n",
            code(&campaign.name),
            code(&campaign.file)
        );
        let _ = writeln!(out, "| | task | numbers | details |\n|---|---|---:|---|");
        for change in plan.changes.iter().filter(|c| c.campaign == campaign.name) {
            row(&mut out, change);
        }
        if let Some(types) = types_line(&campaign.number_types) {
            let _ = writeln!(out, "\n{types}.");
        }
        let dropped = dropped(campaign);
        if !dropped.is_empty() {
            let _ = writeln!(out, "\n_{}._", dropped.join(", "));
        }
        let _ = writeln!(out, "\nGuards: {}.", guards_line(campaign));
        let _ = writeln!(out);
    }
    fit(out)
}

fn others(plan: &Plan) -> String {
    [
        (Action::NoOp, "unchanged"),
        (Action::InDoubt, "in doubt"),
        (Action::Orphaned, "orphaned"),
    ]
    .iter()
    .filter_map(|(action, label)| {
        let n = plan.count(*action);
        (n > 0).then(|| format!(" · {n} {label}"))
    })
    .chain((plan.numbers_held() > 0).then(|| {
        format!(
            " · {} held by the calling rules",
            plural(plan.numbers_held(), "number", "numbers")
        )
    }))
    .collect()
}

fn row(out: &mut String, change: &Change) {
    let (mark, mut details) = match change.action {
        Action::Create if change.follow_up => (
            "➕ create",
            format!(
                "follow-up: only numbers never sent before ({} already sent)",
                change.already_sent
            ),
        ),
        Action::Create => ("➕ create", String::new()),
        Action::NoOp => ("✔️ no-op", "nothing new".to_owned()),
        Action::Orphaned => (
            "❔ orphaned",
            "in state, no longer in the files; nothing is sent".to_owned(),
        ),
        Action::Held => (
            "⏸️ held",
            change.hold.as_ref().map(hold_reason).unwrap_or_default(),
        ),
        Action::InDoubt => (
            "⚠️ in doubt",
            "outcome unknown; numbers held until resolved".to_owned(),
        ),
    };
    if let Some(send_by) = change.send_by {
        let _ = write!(
            details,
            "{}must leave by {}",
            if details.is_empty() { "" } else { "<br>" },
            campaignctl::clock::format(send_by)
        );
    }
    if let Some(part) = change.part {
        let _ = write!(
            details,
            "{}{}",
            if details.is_empty() { "" } else { "<br>" },
            part_phrase(part)
        );
    }
    for setting in &change.settings_changed {
        let applies = if change.action == Action::Create {
            "for this follow-up"
        } else {
            "for follow-ups only"
        };
        let _ = write!(
            details,
            "{}{}: {} → {} ({applies})",
            if details.is_empty() { "" } else { "<br>" },
            code(&setting.field),
            code(&setting.before.to_string()),
            code(&setting.after.to_string())
        );
    }
    if let Some(body) = &change.body {
        let mut sample: Vec<String> = body
            .call_list
            .iter()
            .take(SAMPLE_NUMBERS)
            .map(|item| code(&mask(&item.user_phone)))
            .collect();
        if body.call_list.len() > SAMPLE_NUMBERS {
            sample.push(format!("… {} more", body.call_list.len() - SAMPLE_NUMBERS));
        }
        let _ = write!(
            details,
            "{}{}",
            if details.is_empty() { "" } else { "<br>" },
            sample.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "| {mark} | {} | {} | {details} |",
        code(&change.task_name),
        change.number_count
    );
}
