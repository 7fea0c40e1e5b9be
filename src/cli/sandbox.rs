//! `campaignctl sandbox`: run the local fake NXCC server until killed or interrupted.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use campaignctl::nxcc::{ACCESS_KEY_VAR, ACCESS_SECRET_VAR, Credentials};
use campaignctl::sandbox::records::{DEFAULT_TENANT_ID, parse_fault};
use campaignctl::sandbox::{DEFAULT_LISTEN, Fault, RecordsConfig, Sandbox, SandboxConfig};

use super::CliError;

/// Used for whichever credential variable is unset, so that trying the tool needs no setup.
const DEMO_CREDENTIAL: &str = "demo";

const AFTER_HELP: &str = "\
Requests must be signed with NXCC_ACCESS_KEY / NXCC_ACCESS_SECRET (`demo` / `demo` when unset). The
first line on stdout is `listening on http://ADDR`. Accepted tasks are listed at GET /_sandbox/tasks,
every createandcall request and its answer at GET /_sandbox/requests.

Faults (--fault SPEC, repeatable) change how some createandcall requests are answered. Requests are
numbered from 1 in the order the sandbox receives them.

  SPEC   = WHEN=ACTION[+ACTION...]
  WHEN   = N | N-M | *     request N, requests N to M, or every request
  ACTION = code:C          answer {\"code\": C} with HTTP 200, instead of checking the request
         | http:S          answer HTTP status S (200-599) with an empty body, instead of checking
         | drop            close the connection without answering, instead of checking
         | record          with code/http/drop: check the request as usual first, and record its
                           task if it passes (the task exists, but the answer does not say so)
         | delay:MS        wait MS milliseconds before answering (a passing task is recorded
                           before the wait)

Without `record`, a request answered by code/http/drop is not checked and records no task.
When several specs match a request, the last one given wins.

Examples:
  --fault 3=code:88            request 3 gets code 88 and creates nothing
  --fault 3=code:88+record     request 3 creates its task, yet gets code 88
  --fault 5=http:500+record    request 5 creates its task, yet gets HTTP 500
  --fault 7=delay:2000         request 7 is answered as usual, 2 s late
  --fault 9=drop+record        request 9 creates its task, then the connection is dropped
  --fault 1-2=code:1004        requests 1 and 2 are rejected as stale
  --fault '*=delay:200'        every request is answered 200 ms late

At runtime, POST /_sandbox/faults with a JSON array of SPEC strings replaces all faults (an empty
array clears them); GET /_sandbox/faults lists them with the number the next request will get.

Call records: POST /saas/cc/openapi/cdr/page and /saas/cc/openapi/cdr/queryByOrderId are checked
like createandcall (headers, ts, key, signature) and answered from the accepted tasks. A task with
startupType 3 (immediate start) calls every number of its callList --calls-after MS milliseconds
after it was accepted (default 0: at once); a task with any other startupType never calls, so it
leaves no records. Each record carries orderId, other, taskId, callStatus, answered, direction 3
and startTime (seconds). cdr/page answers {\"data\": {\"total\", \"current\", \"size\", \"records\"}};
cdr/queryByOrderId answers {\"data\": [records]} and accepts only --tenant-id (default 1; another
tenantId gets code 1005).

--records-fault SPEC (repeatable) injects faults into the records APIs with the grammar above,
without `record`. Their requests are numbered from 1 on their own, both APIs together:
  --records-fault 1=http:500       the first records query gets HTTP 500
  --records-fault 2=drop           the second records query gets no answer
  --records-fault '*=code:1005'    every records query is refused";

#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct SandboxArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// Answer some requests wrongly on purpose, e.g. `3=code:88+record` (see --help).
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<Fault>,

    /// Milliseconds after an immediate-start task is accepted until its calls appear in the
    /// call records.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub calls_after: u64,

    /// The tenant id `cdr/queryByOrderId` accepts.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_TENANT_ID)]
    pub tenant_id: u64,

    /// Answer some call-record queries wrongly on purpose, e.g. `1=http:500` (see --help).
    #[arg(long = "records-fault", value_name = "SPEC", value_parser = parse_fault)]
    pub records_faults: Vec<Fault>,
}

pub fn run(_global: &super::GlobalArgs, args: SandboxArgs) -> Result<i32, CliError> {
    let mut stderr = anstream::stderr();
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let access_key = env(ACCESS_KEY_VAR);
    let access_secret = env(ACCESS_SECRET_VAR);
    for (name, value) in [
        (ACCESS_KEY_VAR, &access_key),
        (ACCESS_SECRET_VAR, &access_secret),
    ] {
        if value.is_none() {
            let _ = writeln!(
                stderr,
                "note: {name} is not set; the sandbox uses `{DEMO_CREDENTIAL}`"
            );
        }
    }
    let credentials = Credentials::new(
        access_key.unwrap_or_else(|| DEMO_CREDENTIAL.to_owned()),
        access_secret.unwrap_or_else(|| DEMO_CREDENTIAL.to_owned()),
    );
    let shown_key = credentials.access_key.clone();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(async {
        let sandbox = Sandbox::start(SandboxConfig {
            listen: args.listen,
            credentials,
            faults: args.faults,
            records: RecordsConfig {
                calls_after: Duration::from_millis(args.calls_after),
                tenant_id: args.tenant_id,
                faults: args.records_faults,
            },
        })
        .await?;

        // Scripts and tests wait for this exact first line to learn the port.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on {}", sandbox.base_url())
            .and_then(|()| stdout.flush())
            .map_err(CliError::Stdout)?;
        drop(stdout);
        let _ = writeln!(
            stderr,
            "accepting access key `{}`; accepted tasks at {}/_sandbox/tasks; Ctrl-C stops",
            shown_key,
            sandbox.base_url()
        );

        let mut events = sandbox.subscribe();
        // Made once: a fresh ctrl_c() in every turn of the loop could miss a signal in between.
        let interrupted = tokio::signal::ctrl_c();
        tokio::pin!(interrupted);
        loop {
            tokio::select! {
                _ = &mut interrupted => break,
                event = events.recv() => match event {
                    Ok(request) => {
                        let answer = match (request.code, request.http_status) {
                            (Some(code), _) => format!("code {code}"),
                            (None, Some(status)) => format!("HTTP {status}"),
                            (None, None) => "connection dropped".to_owned(),
                        };
                        let recorded = if request.recorded { ", task recorded" } else { "" };
                        let fault = request
                            .fault
                            .map(|spec| format!(" (fault {spec})"))
                            .unwrap_or_default();
                        let _ = writeln!(stderr, "request #{}: {answer}{recorded}{fault}", request.number);
                    }
                    // A burst outran the log; the records at /_sandbox/requests are complete.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        sandbox.shutdown().await;
        Ok(0)
    })
}
