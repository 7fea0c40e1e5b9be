//! `campaignctl apply`: send a plan, every number at most once.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use campaignctl::apply::{self, Observer, Options, Request, Summary, TaskReport};
use campaignctl::error::{EXIT_ERROR, EXIT_OK};
use campaignctl::nxcc::{Credentials, create_and_call_url};
use campaignctl::pipeline;
use campaignctl::plan::CapError;
use campaignctl::plan::saved::SavedPlan;
use campaignctl::sandbox::{Sandbox, SandboxConfig};
use campaignctl::state::Store;

use super::CliError;
use super::output::{note, out, outln};
use super::provider::ProviderArgs;
use super::views;

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// A plan file saved by `plan --out` (sent exactly as reviewed), or campaign files and
    /// folders (planned now, shown, and sent after you confirm).
    #[arg(value_name = "FILE | PATH", default_value = campaignctl::load::DEFAULT_PATH)]
    pub paths: Vec<PathBuf>,

    /// Send without asking for confirmation (required when not on a terminal).
    #[arg(long)]
    pub auto_approve: bool,

    #[command(flatten)]
    pub provider: ProviderArgs,

    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = apply::DEFAULT_PARALLELISM,
          value_parser = parse_parallelism)]
    pub parallelism: usize,

    /// Requests started per second at most, from 0.01 to 10000 (0: no limit).
    #[arg(long, value_name = "N", default_value_t = apply::DEFAULT_RATE, value_parser = parse_rate)]
    pub rate: f64,

    /// How to report results: `human` lines, or one `json` document on stdout for scripts
    /// (the plan and per-task lines then go to stderr; approval must come from
    /// `--auto-approve` or a saved plan).
    #[arg(long, value_enum, default_value_t = ApplyFormat::Human)]
    pub format: ApplyFormat,

    /// The most numbers this apply may dial, every campaign together: a plan over it is
    /// refused with the counts before anything is sent (a campaign's own cap is `maxNumbers`).
    #[arg(long, value_name = "N")]
    pub max_numbers: Option<std::num::NonZeroUsize>,

    #[command(flatten)]
    pub parts: super::plan::PartsArgs,
}

/// A rate a pacer can keep: 0 for none, else finite and between 0.01 and 10000 per second.
/// (`-5` and `NaN` used to mean no limit, and `1e10` made the pacer panic.)
pub(super) fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate == 0.0 || (0.01..=10_000.0).contains(&rate) => Ok(rate),
        _ => Err("expected requests per second from 0.01 to 10000, or 0 for no limit".to_owned()),
    }
}

fn parse_parallelism(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n @ 1..=256) => Ok(n),
        _ => Err("expected a whole number from 1 to 256".to_owned()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyFormat {
    Human,
    Json,
}

/// Where the human account of a run goes: stdout, or stderr when stdout carries JSON.
#[derive(Debug, Clone, Copy)]
struct Narration {
    to_stderr: bool,
}

impl Narration {
    fn say(self, text: std::fmt::Arguments<'_>) -> Result<(), CliError> {
        if self.to_stderr {
            super::output::stderr(text);
            Ok(())
        } else {
            super::output::stdout(text)
        }
    }
}

pub fn run(global: &super::GlobalArgs, args: ApplyArgs) -> Result<i32, CliError> {
    let json = args.format == ApplyFormat::Json;
    let narration = Narration { to_stderr: json };
    let location = global.location()?;
    let credentials = if global.sandbox {
        Credentials::from_env().unwrap_or_else(|_| Credentials::new("demo", "demo"))
    } else {
        Credentials::from_env()?
    };
    // Where the requests go is checked before anything is planned, locked or asked.
    let target = if global.sandbox {
        "a local sandbox started for this run".to_owned()
    } else {
        let url = create_and_call_url(&args.provider.endpoint)?;
        if campaignctl::clock::is_pretend() && !campaignctl::nxcc::client::is_loopback(&url) {
            return Err(CliError::PretendClock);
        }
        url.to_string()
    };
    let now = campaignctl::clock::rules_now()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let mut store = Store::open(&location)?;
    let settled = store.prepare_apply()?;
    if settled > 0 {
        note!(
            "warning: {settled} task(s) were interrupted while sending by an earlier run; they \
             are held in doubt (see `campaignctl state list`)"
        );
    }

    let mut max_numbers = args.max_numbers;
    // The campaigns this apply is about: tasks of theirs in doubt afterwards fail it.
    let mut concerned = BTreeSet::new();
    // A fresh plan's requests are made one at a time as they are sent (`Request::from_plan`).
    let requests: Box<dyn ExactSizeIterator<Item = Request>> = match saved_plan_path(&args.paths) {
        Some(path) => {
            if args.parts.max_call_list_size.is_some() {
                // The reviewed requests are sent as they are, or not at all.
                return Err(CliError::PartsOfSavedPlan);
            }
            let requests = requests_from_saved_plan(path, &mut store, narration)?;
            // Its campaigns' own caps held when it was made; the apply's own holds now.
            let numbers: usize = requests.iter().map(|r| r.body.call_list.len()).sum();
            if let Some(cap) = args.max_numbers.filter(|cap| numbers > cap.get()) {
                return Err(CapError::Apply {
                    numbers,
                    cap: cap.get(),
                }
                .into());
            }
            concerned.extend(requests.iter().map(|r| r.campaign.clone()));
            Box::new(requests.into_iter())
        }
        None => {
            // The state (locked already) is read while the files expand.
            let (expanded, read) = global.expand_while(&args.paths, |names| {
                store.snapshot(names.iter().map(String::as_str))
            })?;
            max_numbers = max_numbers.or(expanded.workspace.max_numbers);
            let campaigns = expanded.into_campaigns(&args.paths)?;
            concerned.extend(campaigns.iter().map(|c| c.name.clone()));
            let snapshot = match read {
                Some(read) => read?,
                None => pipeline::snapshot(&campaigns, &mut store)?,
            };
            let plan = pipeline::plan(
                campaigns,
                &snapshot,
                &mut store,
                args.parts.max_call_list_size,
                now,
            )?;
            narration.say(format_args!(
                "{}",
                views::human::plan::render(&plan, global.show_numbers)
            ))?;
            plan.within_caps(max_numbers)?;
            if plan.has_changes() {
                // With JSON on stdout there is no room for a question: approval must be given.
                if json && !args.auto_approve {
                    return Err(CliError::NeedsConfirmation);
                }
                confirm(&runtime, &plan, &target, args.auto_approve)?;
            }
            Box::new(Request::from_plan(plan))
        }
    };
    let reports = if requests.len() == 0 {
        narration.say(format_args!("\nNothing to send.\n"))?;
        Vec::new()
    } else {
        // The run is open from before the first request until every answer is recorded, so a
        // state separated from its journal in between is recognised (see `state::sqlite`).
        store.begin_run()?;
        let (returned, reports) =
            runtime.block_on(send(global, &args, credentials, store, requests, narration));
        store = returned;
        if let Err(err) = store.end_run() {
            // Everything sent is recorded; only closing the run failed, which the next apply
            // handles. The outcome of this one stands.
            note!("warning: {err}");
        }
        let reports = reports?;
        narration.say(format_args!(
            "{}\n",
            views::human::apply::summary_line(&Summary::of(&reports))
        ))?;
        reports
    };
    let summary = Summary::of(&reports);
    // A CI job must not stay green while numbers are held: whatever this run did, tasks of its
    // campaigns left in doubt (by it or an earlier run) need a person.
    let in_doubt = store
        .attempts()?
        .iter()
        .filter(|attempt| attempt.status.is_in_doubt() && concerned.contains(&attempt.campaign))
        .count();
    if in_doubt > 0 {
        note!(
            "error: {in_doubt} task(s) of these campaigns are in doubt; their numbers are held \
             until a person decides with `campaignctl state resolve CAMPAIGN/TASK \
             --created|--not-created` (see `campaignctl state list`)"
        );
    }
    if json {
        outln!(
            "{}",
            views::json::apply::render(&reports, &summary, in_doubt)
        )?;
    }
    super::output::job_summary(|| views::markdown::apply::render(&reports, &summary, in_doubt));
    Ok(if summary.is_success() && in_doubt == 0 {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}

fn saved_plan_path(paths: &[PathBuf]) -> Option<&Path> {
    match paths {
        [only] if super::plan::is_plan_file(only) => Some(only),
        _ => None,
    }
}

fn requests_from_saved_plan(
    path: &Path,
    store: &mut Store,
    narration: Narration,
) -> Result<Vec<Request>, CliError> {
    let saved = SavedPlan::read(path)?;
    let now = campaignctl::clock::rules_now()?;
    saved.verify(&store.identity()?, &store.plan_key()?, now)?;
    narration.say(format_args!(
        "Applying the saved plan {} ({} requests, made {}).\n",
        path.display(),
        saved.requests.len(),
        saved.created_at
    ))?;
    Ok(saved
        .requests
        .iter()
        .map(Request::from_saved)
        .collect::<Result<_, _>>()?)
}

/// Asks on the terminal whether to send `plan` to `target`; only `yes` goes on, and Ctrl-C at
/// the prompt cancels with a word instead of killing the process.
fn confirm(
    runtime: &tokio::runtime::Runtime,
    plan: &campaignctl::plan::Plan,
    target: &str,
    auto_approve: bool,
) -> Result<(), CliError> {
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::NeedsConfirmation);
    }
    // Listening for Ctrl-C before the question is asked: one pressed at once must not kill the
    // process with the prompt half answered.
    let interrupted = {
        let _entered = runtime.enter();
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .map_err(CliError::Answer)?
    };
    out!(
        "\nSend {} request(s) dialing {} number(s) to {target}? Only 'yes' will be accepted: ",
        plan.creates().count(),
        plan.numbers_to_dial()
    )?;
    let (answer_tx, answer_rx) = tokio::sync::oneshot::channel();
    // A thread of its own: a read from a terminal cannot be abandoned, and the process may end
    // while it still waits.
    std::thread::spawn(move || {
        let mut answer = String::new();
        let read = std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map(|_| answer);
        let _ = answer_tx.send(read);
    });
    let mut interrupted = interrupted;
    let answer = runtime.block_on(async {
        tokio::select! {
            answer = answer_rx => answer.ok(),
            _ = interrupted.recv() => None,
        }
    });
    match answer {
        Some(Ok(answer)) if answer.trim() == "yes" => Ok(()),
        Some(Err(err)) => Err(CliError::Answer(err)),
        _ => Err(CliError::Cancelled),
    }
}

/// Sends `requests`; the store comes back whatever happened, for the run to be closed.
async fn send(
    global: &super::GlobalArgs,
    args: &ApplyArgs,
    credentials: Credentials,
    store: Store,
    requests: Box<dyn ExactSizeIterator<Item = Request>>,
    narration: Narration,
) -> (Store, Result<Vec<TaskReport>, CliError>) {
    let sandbox = if global.sandbox {
        let config = SandboxConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            credentials: credentials.clone(),
            faults: Vec::new(),
            records: Default::default(),
            // A trial sends what a real apply would; only tests ask for a limit.
            max_call_list: None,
        };
        let handle = match Sandbox::start(config).await {
            Ok(handle) => handle,
            Err(err) => return (store, Err(err.into())),
        };
        if let Err(err) =
            narration.say(format_args!("Started a sandbox at {}\n", handle.base_url()))
        {
            return (store, Err(err));
        }
        Some(handle)
    } else {
        None
    };
    let endpoint = sandbox
        .as_ref()
        .map_or_else(|| args.provider.endpoint.clone(), |s| s.base_url());
    let client = match args.provider.client(endpoint, credentials) {
        Ok(client) => client,
        Err(err) => return (store, Err(err.into())),
    };
    let stop = AtomicBool::new(false);
    let options = Options {
        parallelism: args.parallelism,
        rate: args.rate,
    };
    let observer = LineObserver::new(requests.len(), narration);
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.store(true, Ordering::SeqCst);
            note!(
                "interrupted: no new request will start; waiting for those in flight to be \
                 answered and recorded"
            );
        }
        std::future::pending::<()>().await;
    };
    let sent = tokio::select! {
        sent = apply::run(store, &client, requests, &options, &observer, &stop) => sent,
        () = interrupt => unreachable!("the interrupt future never completes"),
    };
    observer.finish();
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    (sent.store, Ok(sent.reports))
}

/// One line per finished task, readable in CI logs; on a terminal, a progress bar as well.
struct LineObserver {
    bar: Option<indicatif::ProgressBar>,
    narration: Narration,
}

impl LineObserver {
    fn new(total: usize, narration: Narration) -> LineObserver {
        // The bar draws on stderr, so stderr decides; the lines go to stdout either way.
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} requests  {elapsed_precise}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        LineObserver { bar, narration }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Observer for LineObserver {
    fn sending(&self, _request: &Request) {}

    fn finished(&self, report: &TaskReport) {
        let line = views::human::apply::report_line(report);
        // A closed stdout must not stop the requests in flight from being recorded; the summary
        // line reports it.
        let print = || {
            let _ = self.narration.say(format_args!("{line}\n"));
        };
        match &self.bar {
            Some(bar) => {
                bar.suspend(print);
                bar.inc(1);
            }
            None => print(),
        }
    }
}
