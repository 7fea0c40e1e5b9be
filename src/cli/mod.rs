//! The command line, the binary's own code: argument definitions, one file per command, the
//! views that render results, and the only place that prints.

#![allow(clippy::print_stdout, clippy::print_stderr)] // The binary is the one place that prints.

mod apply;
mod plan;
mod render;
mod sandbox;
mod schema;
mod state;
mod validate;
mod views;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use campaignctl::error::{EXIT_ERROR, Error};

/// Outbound AI call campaigns as code: validate, plan and apply NXCC createandcall requests.
///
/// Campaigns live in `*.campaign.yaml` files. `validate` checks them, `render` shows the exact
/// request bodies, `plan` shows what would be sent given what was already sent, and `apply` sends
/// it. No number is ever dialed twice: every request is recorded in the state file before it
/// leaves, and anything whose outcome is unknown is held until a person resolves it.
#[derive(Debug, Parser)]
#[command(
    name = "campaignctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted before or after the subcommand.
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// What was already sent: a SQLite file, or a PostgreSQL database shared by a team or CI
    /// (`postgres://user@host/db`; the password from the URL, PGPASSWORD or ~/.pgpass).
    #[arg(
        long,
        global = true,
        env = "CAMPAIGNCTL_STATE",
        value_name = "PATH|URL",
        default_value = ".campaignctl/state.db"
    )]
    pub state: PathBuf,

    /// The workspace in a PostgreSQL state: one database holds many, each a state of its own.
    #[arg(
        long,
        global = true,
        env = "CAMPAIGNCTL_WORKSPACE",
        value_name = "NAME",
        default_value = campaignctl::state::location::DEFAULT_WORKSPACE
    )]
    pub workspace: String,

    /// Show phone numbers in full in human output (masked by default).
    #[arg(long, global = true)]
    pub show_numbers: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check campaign files: schema and meaning. Exit 0 when valid, 1 when not.
    Validate(validate::ValidateArgs),
    /// Print the JSON Schema (draft-07) of campaign files.
    Schema,
    /// Print the createandcall bodies the files describe, before any state is consulted.
    Render(render::RenderArgs),
    /// Show what would be sent: the tasks in the files minus what state says was sent.
    Plan(plan::PlanArgs),
    /// Send a plan: a saved plan file exactly as reviewed, or the files' plan after you
    /// confirm. Every request is recorded before it leaves; an unknown outcome holds the task
    /// in doubt and it is never sent again automatically.
    Apply(apply::ApplyArgs),
    /// Inspect what was sent, resolve tasks in doubt, forget orphaned tasks.
    State(state::StateArgs),
    /// Run a local fake NXCC server that checks signatures and records tasks.
    Sandbox(sandbox::SandboxArgs),
}

/// Parses `args`, runs the command and returns the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version are not errors; everything else clap rejects exits 1.
            let code = if err.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = err.print();
            return code;
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            report(&err);
            err.exit_code()
        }
    }
}

fn dispatch(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Validate(args) => validate::run(&cli.global, args),
        Command::Schema => schema::run(),
        Command::Render(args) => render::run(&cli.global, args),
        Command::Plan(args) => plan::run(&cli.global, args),
        Command::Apply(args) => apply::run(&cli.global, args),
        Command::State(args) => state::run(&cli.global, args),
        Command::Sandbox(args) => sandbox::run(&cli.global, args),
    }
}

/// Prints an error to stderr: diagnostics in full, anything else as `error: ...`.
fn report(err: &Error) {
    let mut stderr = anstream::stderr();
    let text = match err {
        Error::Invalid {
            diagnostics,
            files_checked,
        } => views::diagnostics::render(
            diagnostics,
            views::diagnostics::Format::Human,
            *files_checked,
        ),
        other => format!("error: {other}\n"),
    };
    let _ = stderr.write_all(text.as_bytes());
}

/// The checked and expanded campaigns under `paths`, with every file they were made from.
struct Desired {
    campaigns: Vec<campaignctl::expand::ExpandedCampaign>,
    inputs: Vec<PathBuf>,
}

/// Checks and expands the campaigns under `paths`; any problem anywhere fails the whole run,
/// since a plan of half the files would hide the other half's problems.
fn expand_paths(paths: &[PathBuf]) -> Result<Desired, Error> {
    let expanded = campaignctl::expand::check_and_expand(paths);
    if !expanded.diagnostics.is_empty() {
        return Err(Error::Invalid {
            diagnostics: expanded.diagnostics,
            files_checked: expanded.files_checked,
        });
    }
    if expanded.files_checked == 0 {
        return Err(Error::msg(format!(
            "no campaign files (*.campaign.yaml, *.campaign.yml) found under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let inputs = expanded
        .campaigns
        .iter()
        .flat_map(|c| c.inputs.iter().cloned())
        .collect();
    Ok(Desired {
        campaigns: expanded.campaigns,
        inputs,
    })
}

/// The plan of `campaigns` against the current state.
fn compute_plan(
    campaigns: Vec<campaignctl::expand::ExpandedCampaign>,
    store: &mut campaignctl::state::Store,
) -> Result<campaignctl::plan::Plan, Error> {
    let names: Vec<String> = campaigns.iter().map(|c| c.name.clone()).collect();
    let snapshot = store.snapshot(names.iter().map(String::as_str))?;
    Ok(campaignctl::plan::plan(campaigns, &snapshot))
}
