//! `campaignctl apply`: send a plan, every number at most once.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use campaignctl::apply::{self, Observer, Options, Request, Summary, TaskOutcome, TaskReport};
use campaignctl::error::{EXIT_ERROR, EXIT_OK, Error};
use campaignctl::nxcc::{Client, ClientConfig, Credentials, SignAlgorithm};
use campaignctl::plan::saved::SavedPlan;
use campaignctl::sandbox::{Sandbox, SandboxConfig};
use campaignctl::state::Store;

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// A plan file saved by `plan --out` (sent exactly as reviewed), or campaign files and
    /// folders (planned now, shown, and sent after you confirm).
    #[arg(value_name = "FILE | PATH", default_value = campaignctl::load::DEFAULT_PATH)]
    pub paths: Vec<PathBuf>,

    /// Send without asking for confirmation (required when not on a terminal).
    #[arg(long)]
    pub auto_approve: bool,

    /// The NXCC gateway's base URL; the createandcall path is appended. Ignored with
    /// `--sandbox`, so a production endpoint set in the environment is never used by a trial.
    #[arg(
        long,
        env = "NXCC_ENDPOINT",
        value_name = "URL",
        default_value = campaignctl::nxcc::DEFAULT_ENDPOINT
    )]
    pub endpoint: String,

    /// How requests are signed.
    #[arg(long, value_name = "ALGORITHM", default_value = "md5", value_parser = sign_algorithm())]
    pub sign_algorithm: SignAlgorithm,

    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = apply::DEFAULT_PARALLELISM,
          value_parser = parse_parallelism)]
    pub parallelism: usize,

    /// Requests started per second at most (0: no limit).
    #[arg(long, value_name = "N", default_value_t = apply::DEFAULT_RATE)]
    pub rate: f64,

    /// Seconds to wait for the provider's answer before the task is held in doubt.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub request_timeout: u64,

    /// Apply to a local sandbox started for this run, with its own state file
    /// (`sandbox.db` beside the state file; `.campaignctl/sandbox.db` for a PostgreSQL state),
    /// so trying the tool never marks real work as done.
    #[arg(long)]
    pub sandbox: bool,
}

/// `md5` or `sha256`, listed in `--help` and in the error for anything else.
fn sign_algorithm() -> impl clap::builder::TypedValueParser<Value = SignAlgorithm> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(SignAlgorithm::ALL.map(SignAlgorithm::header_value))
        .map(|name| SignAlgorithm::from_header_value(&name).unwrap_or_default())
}

fn parse_parallelism(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n @ 1..=256) => Ok(n),
        _ => Err("expected a whole number from 1 to 256".to_owned()),
    }
}

pub fn run(global: &super::GlobalArgs, args: ApplyArgs) -> Result<i32, Error> {
    let location = if args.sandbox {
        global.location()?.sandbox()
    } else {
        global.location()?
    };
    let credentials = if args.sandbox {
        Credentials::from_env().unwrap_or_else(|_| Credentials::new("demo", "demo"))
    } else {
        Credentials::from_env()?
    };
    let mut store = Store::open(&location)?;
    let settled = store.prepare_apply()?;
    if settled > 0 {
        eprintln!(
            "warning: {settled} task(s) were interrupted while sending by an earlier run; they \
             are held in doubt (see `campaignctl state list`)"
        );
    }

    let requests = match saved_plan_path(&args.paths) {
        Some(path) => requests_from_saved_plan(path, &mut store)?,
        None => {
            let desired = super::expand_paths(&args.paths)?;
            let plan = super::compute_plan(desired.campaigns, &mut store)?;
            print!("{}", super::plan::render_human(&plan, global.show_numbers));
            if !plan.has_changes() {
                println!("\nNothing to send.");
                return Ok(EXIT_OK);
            }
            confirm(&plan, args.auto_approve)?;
            Request::from_plan(plan)?
        }
    };
    if requests.is_empty() {
        println!("Nothing to send.");
        return Ok(EXIT_OK);
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::msg(format!("cannot start the async runtime: {err}")))?;
    // The run is open from before the first request until every answer is recorded, so a
    // state separated from its journal in between is recognised (see `state::sqlite`).
    store.begin_run()?;
    let reports = runtime.block_on(send(&args, credentials, &mut store, requests));
    if let Err(err) = store.end_run() {
        // Everything sent is recorded; only closing the run failed, which the next apply
        // handles. The outcome of this one stands.
        eprintln!("warning: {err}");
    }
    let reports = reports?;
    let summary = Summary::of(&reports);
    println!("{}", summary_line(&summary));
    Ok(if summary.is_success() {
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

fn requests_from_saved_plan(path: &Path, store: &mut Store) -> Result<Vec<Request>, Error> {
    let saved = SavedPlan::read(path)?;
    saved.verify(&store.identity()?, &store.plan_key()?)?;
    println!(
        "Applying the saved plan {} ({} requests, made {}).",
        path.display(),
        saved.requests.len(),
        saved.created_at
    );
    saved.requests.iter().map(Request::from_saved).collect()
}

fn confirm(plan: &campaignctl::plan::Plan, auto_approve: bool) -> Result<(), Error> {
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::msg(
            "apply needs confirmation: run it on a terminal, pass --auto-approve, or apply a \
             reviewed plan file (`campaignctl plan --out FILE`, then `campaignctl apply FILE`)",
        ));
    }
    print!(
        "\nSend {} request(s) dialing {} number(s)? Only 'yes' will be accepted: ",
        plan.creates().count(),
        plan.numbers_to_dial()
    );
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|err| Error::msg(format!("cannot read the answer: {err}")))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Error::msg("apply cancelled; nothing was sent"))
    }
}

async fn send(
    args: &ApplyArgs,
    credentials: Credentials,
    store: &mut Store,
    requests: Vec<Request>,
) -> Result<Vec<TaskReport>, Error> {
    let sandbox = if args.sandbox {
        let config = SandboxConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            credentials: credentials.clone(),
            faults: Vec::new(),
        };
        let handle = Sandbox::start(config).await?;
        println!("Started a sandbox at {}", handle.base_url());
        Some(handle)
    } else {
        None
    };
    let endpoint = sandbox
        .as_ref()
        .map_or_else(|| args.endpoint.clone(), |s| s.base_url());
    let client = Client::new(ClientConfig {
        endpoint,
        algorithm: args.sign_algorithm,
        request_timeout: Duration::from_secs(args.request_timeout.max(1)),
        ..ClientConfig::new(credentials)
    })?;
    let stop = AtomicBool::new(false);
    let options = Options {
        parallelism: args.parallelism,
        rate: args.rate,
    };
    let observer = LineObserver::new(requests.len());
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.store(true, Ordering::SeqCst);
            eprintln!(
                "interrupted: no new request will start; waiting for those in flight to be \
                 answered and recorded"
            );
        }
        std::future::pending::<()>().await;
    };
    let reports = tokio::select! {
        reports = apply::run(store, &client, requests, &options, &observer, &stop) => reports,
        () = interrupt => unreachable!("the interrupt future never completes"),
    };
    observer.finish();
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    Ok(reports)
}

/// One line per finished task, readable in CI logs; on a terminal, a progress bar as well.
struct LineObserver {
    bar: Option<indicatif::ProgressBar>,
}

impl LineObserver {
    fn new(total: usize) -> LineObserver {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} requests  {elapsed_precise}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        LineObserver { bar }
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
        let line = report_line(report);
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.println(line);
            }
            None => {
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "{line}");
            }
        }
    }
}

fn report_line(report: &TaskReport) -> String {
    let task = format!(
        "{}/\"{}\" ({} numbers)",
        report.campaign, report.task_name, report.numbers
    );
    match &report.outcome {
        TaskOutcome::Created { req_id: Some(id) } => format!("created    {task}, reqId {id}"),
        TaskOutcome::Created { req_id: None } => format!("created    {task}"),
        TaskOutcome::Rejected {
            code: Some(code),
            message,
        } => format!(
            "rejected   {task}: code {code}: {message} (nothing was created; the numbers can be \
             planned again)"
        ),
        TaskOutcome::Rejected {
            code: None,
            message,
        } => format!("rejected   {task}: {message} (nothing was created)"),
        TaskOutcome::InDoubt { reason } => format!(
            "IN DOUBT   {task}: {reason}; its numbers will not be sent again until `campaignctl \
             state resolve \"{}/{}\" --created|--not-created`",
            report.campaign, report.task_name
        ),
        TaskOutcome::NotStarted { reason } => format!("not sent   {task}: {reason}"),
    }
}

fn summary_line(summary: &Summary) -> String {
    format!(
        "Apply finished: {} created ({} numbers), {} rejected, {} in doubt, {} not sent.",
        summary.created,
        summary.numbers_created,
        summary.rejected,
        summary.in_doubt,
        summary.not_started
    )
}
