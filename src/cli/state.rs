//! `campaignctl state`: inspect what was sent, and repair it where a person must decide.

mod reconcile;

use std::fmt::Write as _;
use std::path::PathBuf;

use campaignctl::error::EXIT_OK;
use campaignctl::state::{Attempt, Location, Store};

use super::CliError;
use super::output::{out, outln};

#[derive(Debug, clap::Args)]
pub struct StateArgs {
    #[command(subcommand)]
    pub command: StateCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum StateCommand {
    /// List every task sent, with its outcome.
    List(ListArgs),
    /// Show one task: settings, outcome, provider answer and numbers.
    Show(TaskArg),
    /// Decide a task in doubt: the provider did (`--created`) or did not (`--not-created`)
    /// create it. Check the NXCC console or call records first: marking a created task as not
    /// created makes its numbers dialable again.
    Resolve(ResolveArgs),
    /// Settle tasks in doubt from the provider's call records: a call of any of a task's
    /// orderIDs proves it was created. Tasks without records stay in doubt; nothing is ever
    /// marked not created.
    Reconcile(reconcile::ReconcileArgs),
    /// Hide an orphaned task (no longer in the files) from plans. Its numbers stay recorded
    /// as sent and are never dialed again by this campaign.
    Forget(TaskArg),
    /// Show who holds the apply lock, if anyone.
    Lock,
    /// Copy the whole state into another one (SQLite into PostgreSQL, or back). The target
    /// must hold no tasks yet; the source is left untouched. Plans made before the copy must
    /// be made again against the copy.
    Migrate(MigrateArgs),
}

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The target: a PostgreSQL URL, or the path of a SQLite file that does not exist yet.
    #[arg(long, value_name = "PATH|URL")]
    pub to: PathBuf,
    /// The workspace in a PostgreSQL target (default: the same name as --workspace).
    #[arg(long, value_name = "NAME")]
    pub to_workspace: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// `human` columns, or one `json` document for scripts (counts, never numbers).
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct TaskArg {
    /// The task as `CAMPAIGN/TASK NAME`, e.g. "spring-renewal/renewal-2026Q2-north #2".
    #[arg(value_name = "CAMPAIGN/TASK")]
    pub task: String,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("decision").required(true).args(["created", "not_created"])))]
pub struct ResolveArgs {
    #[command(flatten)]
    pub task: TaskArg,
    /// The provider created the task: its numbers stay sent.
    #[arg(long)]
    pub created: bool,
    /// The provider did not create the task: its numbers may be planned again.
    #[arg(long)]
    pub not_created: bool,
}

pub fn run(global: &super::GlobalArgs, args: StateArgs) -> Result<i32, CliError> {
    match args.command {
        StateCommand::List(args) => {
            let mut store = open_existing(global)?;
            let attempts = store.attempts()?;
            match args.format {
                ListFormat::Human => out!("{}", super::views::human::state::list(&attempts))?,
                ListFormat::Json => outln!("{}", super::views::json::state::list(&attempts))?,
            }
        }
        StateCommand::Show(task) => {
            let mut store = open_existing(global)?;
            let attempt = find(&mut store, &task.task)?;
            let shown = render_show(&mut store, &attempt, global.show_numbers)?;
            out!("{}", super::views::human::escape_lines(&shown))?;
        }
        StateCommand::Resolve(args) => {
            let mut store = open_existing(global)?;
            store.lock()?;
            let attempt = find(&mut store, &args.task.task)?;
            store.resolve(&attempt, args.created)?;
            let verdict = if args.created {
                "created: its numbers stay sent"
            } else {
                "not created: its numbers can be planned again"
            };
            outln!(
                "Resolved {}/\"{}\" as {verdict}.",
                attempt.campaign,
                attempt.task_name
            )?;
        }
        StateCommand::Reconcile(args) => return reconcile::run(global, args),
        StateCommand::Forget(task) => {
            let mut store = open_existing(global)?;
            store.lock()?;
            let attempt = find(&mut store, &task.task)?;
            store.forget(&attempt)?;
            outln!(
                "Forgot {}/\"{}\"; its numbers stay recorded as sent.",
                attempt.campaign,
                attempt.base_name
            )?;
        }
        StateCommand::Lock => {
            let mut store = open_existing(global)?;
            match store.lock_holder()? {
                Some(holder) => outln!("{} is locked by {holder}.", store.location())?,
                None => outln!("{} is not locked: no apply is running.", store.location())?,
            }
        }
        StateCommand::Migrate(args) => {
            let workspace = args.to_workspace.as_deref().unwrap_or(&global.workspace);
            let target = Location::parse(&args.to, workspace)?;
            let mut source = open_existing(global)?;
            let copied = campaignctl::state::migrate::copy(&mut source, &target)?;
            outln!(
                "Copied {} tasks ({} numbers) from {} to {target}; {} is unchanged. Point \
                 --state (or CAMPAIGNCTL_STATE) at the new state from now on.",
                copied.attempts,
                copied.numbers,
                source.location(),
                source.location()
            )?;
        }
    }
    Ok(EXIT_OK)
}

fn open_existing(global: &super::GlobalArgs) -> Result<Store, CliError> {
    let location = global.location()?;
    if let Location::Sqlite(path) = &location
        && !path.exists()
    {
        let hint = if global.sandbox {
            ""
        } else {
            "; what `apply --sandbox` sent is in its own state: `campaignctl state list --sandbox`"
        };
        return Err(CliError::NoStateFile {
            path: path.display().to_string(),
            hint,
        });
    }
    Ok(Store::open_existing(&location)?)
}

fn find(store: &mut Store, spec: &str) -> Result<Attempt, CliError> {
    let Some((campaign, task)) = spec.split_once('/') else {
        return Err(CliError::TaskSpec(spec.to_owned()));
    };
    store
        .find(campaign, task)?
        .ok_or_else(|| CliError::NoSuchTask {
            campaign: campaign.to_owned(),
            task: task.to_owned(),
        })
}

fn render_show(
    store: &mut Store,
    attempt: &Attempt,
    show_numbers: bool,
) -> Result<String, CliError> {
    let mut out = String::new();
    let _ = writeln!(out, "campaign:   {}", attempt.campaign);
    let _ = writeln!(out, "task:       {}", attempt.task_name);
    if attempt.base_name != attempt.task_name {
        let _ = writeln!(out, "follow-up of: {}", attempt.base_name);
    }
    let _ = writeln!(out, "status:     {}", attempt.status.as_str());
    let optional = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let _ = writeln!(out, "reqId:      {}", optional(&attempt.req_id));
    let _ = writeln!(
        out,
        "answer:     {}",
        match (attempt.code, &attempt.message) {
            (Some(code), Some(msg)) => format!("code {code}: {msg}"),
            (Some(code), None) => format!("code {code}"),
            (None, Some(msg)) => msg.clone(),
            (None, None) => "-".to_owned(),
        }
    );
    let _ = writeln!(out, "sent at:    {}", attempt.created_at);
    let _ = writeln!(out, "updated at: {}", attempt.updated_at);
    let _ = writeln!(
        out,
        "settings:   {}",
        serde_json::to_string(&attempt.settings).unwrap_or_default()
    );
    let numbers = store.numbers(attempt.id)?;
    let _ = writeln!(out, "numbers:    {}", attempt.number_count);
    for (order_id, phone) in &numbers {
        let phone = if show_numbers {
            format!("+{phone}")
        } else {
            super::views::human::mask(phone)
        };
        let _ = writeln!(out, "  {order_id}  {phone}");
    }
    if numbers.is_empty() && attempt.number_count > 0 {
        let _ = writeln!(
            out,
            "  (not kept: the task was not created, so they were freed)"
        );
    }
    Ok(out)
}
