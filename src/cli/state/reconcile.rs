//! `campaignctl state reconcile`: settle tasks in doubt from the provider's own call records.

use std::io::IsTerminal;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use campaignctl::error::EXIT_OK;
use campaignctl::nxcc::{Client, Credentials};
use campaignctl::reconcile::{
    self, Finding, Limits, Progress, QueryKind, ReconcileError, Strategy, Suspect, distinct,
};
use campaignctl::state::{Attempt, Store};

use super::super::CliError;
use super::super::apply::parse_rate;
use super::super::output::out;
use super::super::provider::ProviderArgs;
use super::super::views;
use super::{find, open_existing};

#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// Tasks as `CAMPAIGN/TASK NAME`; by default every task in doubt.
    #[arg(value_name = "CAMPAIGN/TASK")]
    pub tasks: Vec<String>,

    /// Show what would be settled, and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// How the result is written.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ReportFormat,

    /// The account's tenant id: with it, each task's orderIDs are looked up one by one
    /// (`cdr/queryByOrderId`) instead of paging through every call in its time window.
    #[arg(long, env = "NXCC_TENANT_ID", hide_env_values = true, value_name = "N")]
    pub tenant_id: Option<u64>,

    /// Which query to use; by default `order-id` when a tenant id is given, else `page`.
    #[arg(long, value_enum)]
    pub query: Option<Query>,

    /// Hours after each request in which its calls are looked for.
    #[arg(long, value_name = "HOURS", default_value_t = reconcile::DEFAULT_SEARCH_HOURS,
          value_parser = clap::value_parser!(u32).range(1..=24 * 90))]
    pub search_hours: u32,

    /// Pages of `cdr/page` (100 records each) read at most; more is an error, nothing changed.
    #[arg(long, value_name = "N", default_value_t = reconcile::DEFAULT_MAX_PAGES,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_pages: u32,

    /// orderIDs of one task looked up at most with `cdr/queryByOrderId`.
    #[arg(long, value_name = "N", default_value_t = reconcile::DEFAULT_PER_TASK,
          value_parser = parse_per_task)]
    pub per_task: usize,

    /// Queries per second at most (0: no limit).
    #[arg(long, value_name = "N", default_value_t = reconcile::DEFAULT_RATE, value_parser = parse_rate)]
    pub rate: f64,

    #[command(flatten)]
    pub provider: ProviderArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Query {
    /// `cdr/page` over each task's time window.
    Page,
    /// `cdr/queryByOrderId` for some of each task's orderIDs; needs the tenant id.
    OrderId,
}

fn parse_per_task(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n @ 1..=10_000) => Ok(n),
        _ => Err("expected a whole number from 1 to 10000".to_owned()),
    }
}

pub fn run(global: &super::super::GlobalArgs, args: ReconcileArgs) -> Result<i32, CliError> {
    if global.sandbox {
        // The sandbox's state was sent to sandboxes started for one apply each, all gone now:
        // there are no records to ask, and the provider's must never settle trial tasks.
        return Err(CliError::ReconcileSandbox);
    }
    let strategy = args.strategy()?;
    // Made first, so a bad endpoint or missing credentials are named before state is touched.
    let client = args.client()?;
    let mut store = open_existing(global)?;
    // A dry run writes nothing, so it may run beside an apply.
    if !args.dry_run {
        store.lock()?;
    }
    let attempts = selected(&mut store, &args.tasks)?;
    let limits = args.limits();
    let suspects = Suspect::gather(&mut store, attempts, unix_now()?, limits.search_hours)?;
    let findings = if suspects.is_empty() {
        Vec::new()
    } else {
        search(&client, suspects, strategy, &limits)?
    };
    if !args.dry_run {
        reconcile::settle(&mut store, &findings)?;
    }
    let report = match args.format {
        ReportFormat::Human => views::human::reconcile::render(&findings, strategy, args.dry_run),
        ReportFormat::Json => views::json::reconcile::render(&findings, strategy, args.dry_run),
    };
    out!("{report}")?;
    Ok(EXIT_OK)
}

impl ReconcileArgs {
    fn strategy(&self) -> Result<Strategy, ReconcileError> {
        let asked = self.query.map(|query| match query {
            Query::Page => QueryKind::Page,
            Query::OrderId => QueryKind::OrderId,
        });
        Strategy::choose(asked, self.tenant_id)
    }

    fn client(&self) -> Result<Client, CliError> {
        let endpoint = self.provider.endpoint.clone();
        Ok(self.provider.client(endpoint, Credentials::from_env()?)?)
    }

    fn limits(&self) -> Limits {
        Limits {
            search_hours: self.search_hours,
            max_pages: self.max_pages,
            per_task: self.per_task,
            rate: self.rate,
        }
    }
}

/// The tasks named, each of which must be in doubt, or every task in doubt.
fn selected(store: &mut Store, specs: &[String]) -> Result<Vec<Attempt>, CliError> {
    if specs.is_empty() {
        let mut attempts = store.attempts()?;
        attempts.retain(|attempt| attempt.status.is_in_doubt());
        return Ok(attempts);
    }
    let attempts = specs
        .iter()
        .map(|spec| {
            let attempt = find(store, spec)?;
            if attempt.status.is_in_doubt() {
                Ok(attempt)
            } else {
                Err(CliError::NotInDoubt {
                    task: format!("{}/\"{}\"", attempt.campaign, attempt.task_name),
                    status: attempt.status.as_str(),
                })
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(distinct(attempts))
}

fn search(
    client: &Client,
    suspects: Vec<Suspect>,
    strategy: Strategy,
    limits: &Limits,
) -> Result<Vec<Finding>, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let progress = Spinner::new();
    let found = runtime.block_on(reconcile::search(
        client, suspects, strategy, limits, &progress,
    ));
    progress.finish();
    Ok(found?)
}

fn unix_now() -> Result<i64, CliError> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|now| i64::try_from(now.as_secs()).ok())
        .ok_or(CliError::ClockBefore1970)
}

/// The query in flight, on stderr when it is a terminal; nothing otherwise, so logs and JSON
/// on stdout stay clean.
struct Spinner {
    bar: Option<indicatif::ProgressBar>,
}

impl Spinner {
    fn new() -> Spinner {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Spinner { bar }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Spinner {
    fn query(&self, description: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(campaignctl::diagnostic::escape(description).into_owned());
        }
    }
}
