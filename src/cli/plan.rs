//! `campaignctl plan`: what would be sent, given what was already sent.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use campaignctl::error::{EXIT_CHANGES, EXIT_OK, Error};
use campaignctl::nxcc::CreateAndCall;
use campaignctl::phone::{NumberType, TypeCounts};
use campaignctl::plan::saved::SavedPlan;
use campaignctl::plan::{Action, Change, Plan};
use campaignctl::state::Store;

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Campaign files, or folders searched recursively for `*.campaign.yaml` / `*.campaign.yml`.
    #[arg(value_name = "PATH", default_value = campaignctl::load::DEFAULT_PATH)]
    pub paths: Vec<PathBuf>,

    /// Save the plan (its exact request bodies, never a secret) for `campaignctl apply FILE`.
    /// Apply refuses it if the state or any input file changes in between.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Print the plan as one JSON document instead of text.
    #[arg(long)]
    pub json: bool,

    /// Exit 2 when the plan would send anything (0 when not, 1 on errors).
    #[arg(long)]
    pub detailed_exitcode: bool,
}

pub fn run(global: &super::GlobalArgs, args: PlanArgs) -> Result<i32, Error> {
    let desired = super::expand_paths(&args.paths)?;
    let inputs = desired.inputs.clone();
    let mut store = Store::open(&global.state)?;
    let plan = super::compute_plan(desired.campaigns, &mut store)?;
    if let Some(out) = &args.out {
        SavedPlan::new(&plan, &inputs, &store.plan_key()?)?.write(out)?;
    }
    if args.json {
        println!("{}", render_json(&plan));
    } else {
        print!("{}", render_human(&plan, global.show_numbers));
        if let Some(out) = &args.out {
            println!(
                "\nSaved the plan to {}. Apply exactly it with: campaignctl apply {}",
                out.display(),
                out.display()
            );
        }
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonPlan<'a> {
    format_version: u32,
    summary: JsonSummary,
    campaigns: &'a [campaignctl::plan::CampaignSummary],
    changes: &'a [Change],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonSummary {
    create: usize,
    numbers: usize,
    no_op: usize,
    orphaned: usize,
    in_doubt: usize,
}

/// The plan as `plan --json` prints it (numbers are never in it, only counts).
pub fn render_json(plan: &Plan) -> String {
    let document = JsonPlan {
        format_version: 1,
        summary: JsonSummary {
            create: plan.count(Action::Create),
            numbers: plan.numbers_to_dial(),
            no_op: plan.count(Action::NoOp),
            orphaned: plan.count(Action::Orphaned),
            in_doubt: plan.count(Action::InDoubt),
        },
        campaigns: &plan.campaigns,
        changes: &plan.changes,
    };
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

/// How many numbers of a create are shown when numbers are masked.
const SAMPLE_NUMBERS: usize = 3;

/// The plan as people read it in a terminal or a pull request.
pub fn render_human(plan: &Plan, show_numbers: bool) -> String {
    let mut out = String::new();
    for campaign in &plan.campaigns {
        let _ = writeln!(out, "campaign {} ({})", campaign.name, campaign.file);
        for change in plan.changes.iter().filter(|c| c.campaign == campaign.name) {
            render_change(&mut out, change, show_numbers);
        }
        let mut dropped = Vec::new();
        if campaign.duplicates_dropped > 0 {
            dropped.push(count(
                campaign.duplicates_dropped,
                "duplicate number dropped",
                "duplicate numbers dropped",
            ));
        }
        if campaign.excluded > 0 {
            dropped.push(count(
                campaign.excluded,
                "number excluded",
                "numbers excluded",
            ));
        }
        if !dropped.is_empty() {
            let _ = writeln!(out, "    ({})", dropped.join(", "));
        }
        if let Some(types) = types_line(&campaign.number_types) {
            let _ = writeln!(out, "    ({types})");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "{}", summary_line(plan));
    out
}

/// `numbers by type: fixedLine 3, mobile 2`, with the type names `numberTypes` takes.
fn types_line(counts: &TypeCounts) -> Option<String> {
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

fn render_change(out: &mut String, change: &Change, show_numbers: bool) {
    let (sign, detail) = match change.action {
        Action::Create if change.follow_up => (
            "+",
            format!(
                "{} (follow-up: only numbers never sent before; {} already sent)",
                count(change.number_count, "number", "numbers"),
                change.already_sent
            ),
        ),
        Action::Create if change.already_sent > 0 => (
            "+",
            format!(
                "{} ({} already sent in other tasks of the campaign)",
                count(change.number_count, "number", "numbers"),
                change.already_sent
            ),
        ),
        Action::Create => ("+", count(change.number_count, "number", "numbers")),
        Action::NoOp => (
            "=",
            format!(
                "nothing new ({} already sent)",
                count(change.number_count, "number", "numbers")
            ),
        ),
        Action::Orphaned => (
            "?",
            format!(
                "in state, no longer in the files; nothing will be sent ({}). Forget it with: \
                 campaignctl state forget \"{}/{}\"",
                count(change.number_count, "number", "numbers"),
                change.campaign,
                change.task_name
            ),
        ),
        Action::InDoubt => (
            "!",
            format!(
                "sent, outcome unknown: {} blocked until resolved with: campaignctl state \
                 resolve \"{}/{}\" --created|--not-created",
                count(change.number_count, "number", "numbers"),
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

/// `+4477••••••00`: enough to recognise a country and tell numbers apart, not to dial.
pub fn mask(digits: &str) -> String {
    let chars: Vec<char> = digits.chars().collect();
    if chars.len() <= 6 {
        return format!("+{}", "•".repeat(chars.len()));
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("+{head}{}{tail}", "•".repeat(chars.len() - 6))
}

fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn summary_line(plan: &Plan) -> String {
    let mut line = format!(
        "Plan: {} to create, {} to dial",
        count(plan.count(Action::Create), "task", "tasks"),
        count(plan.numbers_to_dial(), "number", "numbers")
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
    line.push('.');
    line
}

/// Whether `path` names a saved plan rather than campaign files.
pub fn is_plan_file(path: &Path) -> bool {
    path.is_file()
        && !path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".campaign.yaml") || n.ends_with(".campaign.yml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_the_country_and_the_last_digits() {
        assert_eq!(mask("447700900123"), "+4477••••••23");
        assert_eq!(mask("123"), "+•••");
    }
}
