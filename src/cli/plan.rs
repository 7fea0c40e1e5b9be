//! `campaignctl plan`: what would be sent, given what was already sent.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use campaignctl::error::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK};
use campaignctl::pipeline;
use campaignctl::plan::saved::SavedPlan;
use campaignctl::state::Store;

use super::CliError;
use super::output::{out, outln};
use super::views;

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Campaign files, or folders searched recursively for `*.campaign.yaml` / `*.campaign.yml`.
    #[arg(value_name = "PATH", default_value = campaignctl::load::DEFAULT_PATH)]
    pub paths: Vec<PathBuf>,

    /// Save the plan (its exact request bodies, never a secret) for `campaignctl apply FILE`.
    /// Apply refuses it if the state or any input file changes in between.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// How to print the plan: `human` text, one `json` document (counts, never numbers), or
    /// `markdown` for a pull-request comment (numbers masked). Files with problems are reported
    /// in the same format where it has one (JSON: as `validate --format json` does).
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,

    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// How long a saved plan may be applied, e.g. `30m`, `2h`, `1d` (at most 30 days): applying
    /// it later is refused, since what was reviewed then is not what should be sent now.
    #[arg(long, value_name = "DURATION", default_value = "24h", requires = "out", value_parser = plan_life)]
    pub expires: time::Duration,

    /// Exit 2 when the plan would send anything (0 when not, 1 on errors).
    #[arg(long)]
    pub detailed_exitcode: bool,

    #[command(flatten)]
    pub parts: PartsArgs,
}

/// How tasks are split into requests: shared by `plan`, `apply` and `render`.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct PartsArgs {
    /// The most numbers one request carries, overriding every campaign's
    /// `task.maxCallListSize` (default 10000). A larger task is sent as parts named
    /// "TASK (part 2/7)", each its own request.
    #[arg(long, value_name = "N")]
    pub max_call_list_size: Option<NonZeroUsize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    Markdown,
}

pub fn run(global: &super::GlobalArgs, args: PlanArgs) -> Result<i32, CliError> {
    let format = if args.json {
        PlanFormat::Json
    } else {
        args.format
    };
    let location = global.location()?;
    // The state is opened and read while the files expand.
    let (expanded, read) = global.expand_while(&args.paths, |names| {
        let mut store = Store::open(&location)?;
        let snapshot = store.snapshot(names.iter().map(String::as_str))?;
        Ok::<_, campaignctl::state::StateError>((store, snapshot))
    })?;
    if format == PlanFormat::Json && !expanded.diagnostics.is_empty() {
        // A script reading stdout gets the problems in the shape it parses.
        out!(
            "{}",
            views::json::diagnostics::render(&expanded.diagnostics)
        )?;
        return Ok(EXIT_ERROR);
    }
    let max_numbers = expanded.workspace.max_numbers;
    let campaigns = expanded.into_campaigns(&args.paths)?;
    let inputs = pipeline::inputs(&campaigns);
    let (mut store, snapshot) = match read {
        Some(read) => read?,
        None => {
            let mut store = Store::open(&location)?;
            let snapshot = pipeline::snapshot(&campaigns, &mut store)?;
            (store, snapshot)
        }
    };
    let now = campaignctl::clock::rules_now()?;
    let plan = pipeline::plan(
        campaigns,
        &snapshot,
        &mut store,
        args.parts.max_call_list_size,
        now,
    )?;
    plan.within_caps(max_numbers)?;
    if let Some(out) = &args.out {
        SavedPlan::save(&plan, &inputs, &store.plan_key()?, now, args.expires, out)?;
    }
    match format {
        PlanFormat::Json => outln!("{}", views::json::plan::render(&plan))?,
        PlanFormat::Markdown => out!("{}", views::markdown::plan::render(&plan))?,
        PlanFormat::Human => {
            out!("{}", views::human::plan::render(&plan, global.show_numbers))?;
            if let Some(out) = &args.out {
                outln!(
                    "\nSaved the plan to {}. Apply exactly it with: campaignctl apply {}",
                    out.display(),
                    out.display()
                )?;
            }
        }
    }
    super::output::job_summary(|| views::markdown::plan::render(&plan));
    Ok(if args.detailed_exitcode && plan.has_changes() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}

/// A saved plan's life: from a second to 30 days.
fn plan_life(text: &str) -> Result<time::Duration, String> {
    campaignctl::clock::parse_duration(text)
        .filter(|life| *life <= time::Duration::days(30))
        .ok_or_else(|| "expected a duration from 1s to 30d, such as 30m, 2h or 1d".to_owned())
}

/// Whether `path` holds a saved plan rather than a campaign: told by its content, so that a
/// campaign file with any name is never taken for a plan.
pub fn is_plan_file(path: &Path) -> bool {
    path.is_file() && SavedPlan::is_plan_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_a_number_and_a_unit_within_a_month() {
        assert_eq!(plan_life("90s"), Ok(time::Duration::seconds(90)));
        assert_eq!(plan_life("2h"), Ok(time::Duration::hours(2)));
        assert_eq!(plan_life("30d"), Ok(time::Duration::days(30)));
        for bad in ["0s", "31d", "2", "h", "-1h", "1.5h", "1w"] {
            assert!(plan_life(bad).is_err(), "{bad}");
        }
    }
}
