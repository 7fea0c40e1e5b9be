//! The command line, the binary's own code: argument definitions, one file per command, the
//! views that render results, and the only place that prints.

mod apply;
mod error;
mod output;
mod plan;
mod provider;
mod render;
mod sandbox;
mod schema;
mod state;
mod validate;
mod views;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use campaignctl::diagnostic::escape;
use campaignctl::expand::{DEFAULT_MAX_NUMBERS, Reading};
use campaignctl::load::Root;
use campaignctl::pipeline::{self, Expanded};
use campaignctl::state::Location;
use clap::{CommandFactory, Parser, Subcommand};
pub use error::CliError;

use campaignctl::error::{EXIT_ERROR, EXIT_OK, Error};

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
        hide_env_values = true,
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

    /// The workspace root: campaign files and the data files they name are read only when they
    /// resolve, after symlinks, to regular files inside it. Default: the current directory.
    #[arg(
        long,
        global = true,
        env = "CAMPAIGNCTL_ROOT",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub root: Option<PathBuf>,

    /// The largest data source (CSV or text file) read, in bytes.
    #[arg(long, global = true, value_name = "BYTES", default_value_t = campaignctl::load::DEFAULT_MAX_SOURCE_BYTES)]
    pub max_source_bytes: u64,

    /// Show phone numbers in full in human output and diagnostics (masked by default).
    #[arg(long, global = true)]
    pub show_numbers: bool,

    /// Try things on the sandbox: use its own state (`sandbox.db` beside the state file, or
    /// `.campaignctl/sandbox.db` for a PostgreSQL state), and
    /// with `apply`, send to a local sandbox started for the run instead of the provider, so a
    /// trial never marks real work as done. `plan --sandbox --out FILE` then `apply --sandbox
    /// FILE` tries a saved plan.
    #[arg(long, global = true)]
    pub sandbox: bool,

    /// When to colour human output: on a terminal (`auto`, which `NO_COLOR` turns off),
    /// `always` or `never`.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl GlobalArgs {
    /// The state the flags name: the sandbox's own with `--sandbox`.
    fn location(&self) -> Result<Location, Error> {
        let location = Location::parse(&self.state, &self.workspace)?;
        Ok(if self.sandbox {
            location.sandbox()
        } else {
            location
        })
    }

    /// The workspace root the flags name.
    fn root(&self) -> Result<Root, CliError> {
        let (dir, shown) = match &self.root {
            Some(dir) => (dir.as_path(), Some(dir.to_string_lossy())),
            None => (std::path::Path::new("."), None),
        };
        let mut root = Root::new(dir, shown.as_deref()).map_err(|source| CliError::Root {
            dir: dir.display().to_string(),
            source,
        })?;
        root.max_source_bytes = self.max_source_bytes;
        Ok(root)
    }

    /// Finds, checks and expands the campaigns under `paths` within the workspace root.
    fn expand(&self, paths: &[PathBuf]) -> Result<Expanded, CliError> {
        Ok(self.expand_while(paths, |_| ())?.0)
    }

    /// [`GlobalArgs::expand`], reading state with `read_state` meanwhile (see
    /// [`pipeline::expand_while`]).
    fn expand_while<T: Send>(
        &self,
        paths: &[PathBuf],
        read_state: impl FnOnce(&[String]) -> T + Send,
    ) -> Result<(Expanded, Option<T>), CliError> {
        let root = self.root()?;
        let reading = Reading {
            root: &root,
            show_numbers: self.show_numbers,
            max_numbers: DEFAULT_MAX_NUMBERS,
            now: campaignctl::clock::rules_now()?,
        };
        Ok(pipeline::expand_while(paths, &reading, read_state))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check campaign files: schema and meaning. Exit 0 when valid, 1 when not.
    Validate(validate::ValidateArgs),
    /// Print the JSON Schema (draft-07) of campaign files, or with --workspace-file of the
    /// workspace file (campaignctl.yaml at the root).
    Schema(schema::SchemaArgs),
    /// Print the createandcall bodies the files describe, before any state is consulted: one
    /// per request, so a task larger than `maxCallListSize` shows as its parts.
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
    /// Print a shell completion script, e.g. `campaignctl completions bash >
    /// /etc/bash_completion.d/campaignctl`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `campaignctl man | man -l -`.
    Man,
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

fn dispatch(cli: Cli) -> Result<i32, CliError> {
    anstream::ColorChoice::write_global(match cli.global.color {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    });
    match cli.command {
        Command::Validate(args) => validate::run(&cli.global, args),
        Command::Schema(args) => schema::run(&args),
        Command::Render(args) => render::run(&cli.global, args),
        Command::Plan(args) => plan::run(&cli.global, args),
        Command::Apply(args) => apply::run(&cli.global, args),
        Command::State(args) => state::run(&cli.global, args),
        Command::Sandbox(args) => sandbox::run(&cli.global, args),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "campaignctl", &mut script);
            output::out!("{}", String::from_utf8_lossy(&script))?;
            Ok(EXIT_OK)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(CliError::Stdout)?;
            output::out!("{}", String::from_utf8_lossy(&page))?;
            Ok(EXIT_OK)
        }
    }
}

/// Prints an error to stderr: diagnostics in full, anything else as `error: ...`.
fn report(err: &CliError) {
    let mut stderr = anstream::stderr();
    let text = match err {
        // The reader went away (`| head`): nobody is left to tell.
        CliError::Stdout(io) if io.kind() == std::io::ErrorKind::BrokenPipe => return,
        CliError::Library(Error::Invalid {
            diagnostics,
            files_checked,
        }) => views::diagnostics(diagnostics, views::Format::Human, *files_checked),
        // Messages can carry what a file or the provider said: escape it.
        other => format!("error: {}\n", escape(&other.to_string())),
    };
    let _ = stderr.write_all(text.as_bytes());
}
