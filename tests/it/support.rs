//! Helpers for the integration tests that drive the real `campaignctl` binary: a workspace in a
//! temporary directory, a `campaignctl sandbox` process on a loopback port, readers for the state
//! file and for apply's output, and a small seeded random number generator.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The credentials every test uses (the sandbox is started with the same).
pub const KEY: &str = "apply-test-key";
pub const SECRET: &str = "Apply-Test-Secret-7Qz9";

/// Environment variables that must not leak from the developer's shell into a test run.
const SCRUBBED_VARS: [&str; 16] = [
    "NXCC_ACCESS_KEY",
    "NXCC_ACCESS_SECRET",
    "NXCC_ENDPOINT",
    "CAMPAIGNCTL_STATE",
    "CAMPAIGNCTL_WORKSPACE",
    "CAMPAIGNCTL_ROOT",
    "CAMPAIGNCTL_NOW",
    "GITHUB_STEP_SUMMARY",
    "CLICOLOR_FORCE",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGPASSFILE",
    "PGSSLMODE",
];

/// How long any single wait on a child process or a condition may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_campaignctl")
}

/// `campaignctl` with a clean environment: no credentials, no endpoint, no state from the
/// caller's shell, no colours, no terminal on stdin.
pub fn campaignctl(dir: &Path) -> Command {
    let mut command = Command::new(bin());
    command.current_dir(dir).stdin(Stdio::null());
    for var in SCRUBBED_VARS {
        command.env_remove(var);
    }
    command.env("NO_COLOR", "1");
    // Calling windows make plans depend on the hour: every test runs on a Wednesday at
    // 10:00 UTC, inside the default window in London and Hong Kong, unless it sets its own time.
    command.env(campaignctl::clock::NOW_VAR, TEST_NOW);
    command
}

/// Runs `command` with the rules' time `now` (`CAMPAIGNCTL_NOW`).
pub fn at(mut command: Command, now: &str) -> Run {
    command.env(campaignctl::clock::NOW_VAR, now);
    run(command)
}

/// The rules' time of every test that does not set its own (`CAMPAIGNCTL_NOW`).
pub const TEST_NOW: &str = "2026-11-18T10:00:00Z";

/// A finished command: its exit code and output.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics, showing everything, unless the command exited with `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "`campaignctl {}` exited {:?}, expected {code}\n{}",
            self.args.join(" "),
            self.code,
            self.describe()
        );
        self
    }

    pub fn describe(&self) -> String {
        format!(
            "--- stdout ---\n{}--- stderr ---\n{}--------------",
            self.stdout, self.stderr
        )
    }

    /// stdout and stderr together, for messages that may go to either.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The task lines apply printed.
    pub fn tasks(&self) -> Vec<TaskLine> {
        self.stdout.lines().filter_map(TaskLine::parse).collect()
    }

    /// The closing line of apply.
    #[track_caller]
    pub fn summary(&self) -> ApplySummary {
        self.stdout
            .lines()
            .find_map(ApplySummary::parse)
            .unwrap_or_else(|| panic!("no `Apply finished:` line\n{}", self.describe()))
    }

    /// stdout as JSON (`plan --json`).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err})\n{}", self.describe()))
    }
}

/// Runs `command` to its end, with a bounded wait, and checks that the secret was not printed.
pub fn run(mut command: Command) -> Run {
    let args: Vec<String> = command
        .get_args()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = command.spawn().expect("campaignctl starts");
    let output = wait_output(child, PATIENCE)
        .unwrap_or_else(|| panic!("`campaignctl {}` did not end in time", args.join(" ")));
    let run = Run {
        args,
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "the access secret was printed by `campaignctl {}`\n{}",
        run.args.join(" "),
        run.describe()
    );
    run
}

/// Like `Child::wait_with_output`, but gives up (killing the child) after `limit`.
fn wait_output(mut child: Child, limit: Duration) -> Option<std::process::Output> {
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        bytes
    });
    let status = match wait_until(&mut child, Instant::now() + limit) {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
    };
    Some(std::process::Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// Waits for `child` until `deadline`; `None` when it is still running then.
pub fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Polls `condition` until it holds, failing the test after [`PATIENCE`].
#[track_caller]
pub fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A temporary directory holding campaign files, their data and a state file (or, with
/// [`Workspace::on_postgres`], a workspace in a PostgreSQL database).
pub struct Workspace {
    dir: tempfile::TempDir,
    /// The database URL and workspace name, when state lives in PostgreSQL.
    postgres: Option<(String, String)>,
}

impl Default for Workspace {
    fn default() -> Self {
        Self::new()
    }
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace {
            dir: tempfile::Builder::new()
                .prefix("campaignctl-apply-")
                .tempdir()
                .expect("tempdir"),
            postgres: None,
        }
    }

    /// A working copy whose state is the workspace `workspace` of the database at `url`.
    pub fn on_postgres(url: &str, workspace: &str) -> Workspace {
        Workspace {
            postgres: Some((url.to_owned(), workspace.to_owned())),
            ..Workspace::new()
        }
    }

    /// What `--state` is given: the state file's path, or the database URL.
    pub fn state_arg(&self) -> std::ffi::OsString {
        match &self.postgres {
            Some((url, _)) => url.into(),
            None => self.state().into(),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }

    /// The state file the tests use, passed with `--state`.
    pub fn state(&self) -> PathBuf {
        self.path("state/state.db")
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }

    pub fn append(&self, relative: &str, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(self.path(relative))
            .expect("open for append");
        file.write_all(text.as_bytes()).expect("append");
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).expect("read")
    }

    /// `campaignctl ARGS --state STATE` in the workspace, no credentials in the environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = campaignctl(self.root());
        command.args(args).arg("--state").arg(self.state_arg());
        if let Some((_, workspace)) = &self.postgres {
            command.args(["--workspace", workspace]);
        }
        command
    }

    /// Like [`Workspace::command`], with the test credentials in the environment.
    pub fn command_with_credentials(&self, args: &[&str]) -> Command {
        let mut command = self.command(args);
        command
            .env("NXCC_ACCESS_KEY", KEY)
            .env("NXCC_ACCESS_SECRET", SECRET);
        command
    }

    /// `campaignctl ARGS` (plan, state, ...) against the workspace's state.
    pub fn run(&self, args: &[&str]) -> Run {
        run(self.command(args))
    }

    /// `campaignctl apply ARGS --auto-approve --rate 0 --endpoint SANDBOX` with credentials.
    pub fn apply(&self, sandbox: &SandboxProcess, args: &[&str]) -> Run {
        let mut command = self.apply_command(sandbox.url(), args);
        command.arg("--auto-approve");
        run(command)
    }

    /// `campaignctl apply ARGS --rate 0 --endpoint URL` with credentials (no approval flag).
    pub fn apply_command(&self, endpoint: &str, args: &[&str]) -> Command {
        let mut full = vec!["apply"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--rate", "0", "--endpoint", endpoint]);
        self.command_with_credentials(&full)
    }

    /// `plan --json PATHS`, parsed.
    #[track_caller]
    pub fn plan_json(&self, paths: &[&str]) -> Value {
        let mut args = vec!["plan", "--json"];
        args.extend_from_slice(paths);
        self.run(&args).expect_code(0).json()
    }

    /// The state file's attempts and numbers, read directly.
    pub fn state_rows(&self) -> StateRows {
        match &self.postgres {
            Some((url, workspace)) => StateRows::read_postgres(url, workspace),
            None => StateRows::read(&self.state()),
        }
    }
}

/// A campaign file whose task settings are fixed and whose name and task name are given;
/// `rest` is the YAML after `task:` (matrix, numbers, exclude).
pub fn campaign_yaml(name: &str, task_name: &str, rest: &str) -> String {
    format!(
        "name: {name}\n\
         task:\n\
         \x20 taskName: \"{task_name}\"\n\
         \x20 taskDesc: \"integration test\"\n\
         \x20 country: GB\n\
         \x20 strategyName: Default Strategy\n\
         \x20 dispatchType: none\n\
         \x20 agentGroupNo: NX09445G000025\n\
         \x20 predictCallRate: 1.0\n\
         \x20 ratioCallRate: 1.0\n\
         \x20 startCount: 1\n\
         \x20 startupType: immediate\n\
         {rest}"
    )
}

/// A campaign with one task dialing `numbers` (indexes into the UK drama range), inline.
pub fn inline_campaign(name: &str, task_name: &str, numbers: &[u32]) -> String {
    let phones: Vec<String> = numbers.iter().map(|n| format!("\"{}\"", uk(*n))).collect();
    campaign_yaml(
        name,
        task_name,
        &format!("numbers:\n  - phones: [{}]\n", phones.join(", ")),
    )
}

/// A number of Ofcom's drama range as people write it: `020 7946 0123`.
pub fn uk(n: u32) -> String {
    assert!(n < 1000, "020 7946 0000-0999 only");
    format!("020 7946 0{n:03}")
}

/// The same number as the API carries it: `442079460123`.
pub fn uk_digits(n: u32) -> String {
    assert!(n < 1000, "020 7946 0000-0999 only");
    format!("442079460{n:03}")
}

/// A CSV with columns `id,phone`, one row per number.
pub fn csv_of(numbers: &[u32]) -> String {
    let mut text = String::from("id,phone\n");
    for n in numbers {
        text.push_str(&csv_row(*n));
    }
    text
}

pub fn csv_row(n: u32) -> String {
    format!("C{n:03},{}\n", uk(n))
}

/// A `campaignctl sandbox` process on a free loopback port, killed when dropped.
pub struct SandboxProcess {
    child: Child,
    url: String,
    addr: String,
}

static SANDBOXES: AtomicUsize = AtomicUsize::new(0);

impl SandboxProcess {
    /// Starts a sandbox accepting the test credentials, with `faults` armed; its log goes to a
    /// file in `dir`.
    pub fn start(dir: &Path, faults: &[&str]) -> SandboxProcess {
        let args: Vec<String> = faults.iter().map(|f| format!("--fault={f}")).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Self::start_with(dir, &args)
    }

    /// Starts a sandbox accepting the test credentials, with `args` added to `sandbox --listen`.
    pub fn start_with(dir: &Path, args: &[&str]) -> SandboxProcess {
        let log = dir.join(format!(
            "sandbox-{}.log",
            SANDBOXES.fetch_add(1, Ordering::SeqCst)
        ));
        let mut command = campaignctl(dir);
        command
            .args(["sandbox", "--listen", "127.0.0.1:0"])
            .env("NXCC_ACCESS_KEY", KEY)
            .env("NXCC_ACCESS_SECRET", SECRET)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("sandbox log"))
            .args(args);
        let mut child = command.spawn().expect("campaignctl sandbox starts");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = sender.send(line);
            // Keep draining, so the sandbox never writes into a closed pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = receiver.recv_timeout(PATIENCE).unwrap_or_default();
        let Some(addr) = line.trim_end().strip_prefix("listening on http://") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "unexpected first line from the sandbox: {line:?}; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        let addr = addr.to_owned();
        assert!(addr.starts_with("127.0.0.1:"), "{addr}");
        SandboxProcess {
            child,
            url: format!("http://{addr}"),
            addr,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The tasks the sandbox accepted: `{"reqId","receivedAt","request","body"}`.
    pub fn tasks(&self) -> Vec<Value> {
        self.get_array("/_sandbox/tasks")
    }

    /// Every createandcall request it received, and how it was answered.
    pub fn requests(&self) -> Vec<Value> {
        self.get_array("/_sandbox/requests")
    }

    /// The number the next createandcall request will get.
    pub fn next_request(&self) -> u64 {
        let (status, body) = http(&self.addr, "GET", "/_sandbox/faults", "");
        assert_eq!(status, 200, "{body}");
        let value: Value = serde_json::from_str(&body).expect("faults JSON");
        value["nextRequest"].as_u64().expect("nextRequest")
    }

    /// Replaces the armed faults.
    pub fn set_faults(&self, specs: &[String]) {
        let body = serde_json::to_string(specs).expect("JSON");
        let (status, answer) = http(&self.addr, "POST", "/_sandbox/faults", &body);
        assert_eq!(status, 200, "setting faults {specs:?}: {answer}");
    }

    fn get_array(&self, path: &str) -> Vec<Value> {
        let (status, body) = http(&self.addr, "GET", path, "");
        assert_eq!(status, 200, "GET {path}: {body}");
        match serde_json::from_str(&body) {
            Ok(Value::Array(items)) => items,
            other => panic!("GET {path}: expected a JSON array, got {other:?}"),
        }
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 exchange over a fresh loopback connection: the status and the body.
pub fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|err| panic!("connect {addr}: {err}"));
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream.set_write_timeout(Some(PATIENCE)).expect("timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {text:?}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let chunked = head.lines().any(|line| {
        line.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    (status, body)
}

fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        body.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    body
}

/// The body of an accepted task, by task name. Panics when a name is accepted twice.
pub fn bodies_by_task_name(tasks: &[Value]) -> BTreeMap<String, Value> {
    let mut bodies = BTreeMap::new();
    for task in tasks {
        let name = task["body"]["taskName"]
            .as_str()
            .expect("taskName")
            .to_owned();
        let previous = bodies.insert(name.clone(), task["body"].clone());
        assert!(
            previous.is_none(),
            "the sandbox accepted task {name:?} twice"
        );
    }
    bodies
}

/// Fails when the sandbox accepted one number twice in a campaign (told apart by
/// `campaign_of`), whatever its orderID: the promise is about phones ringing.
#[track_caller]
pub fn assert_no_number_twice(tasks: &[Value], campaign_of: impl Fn(&str) -> String) {
    let mut seen: std::collections::HashMap<(String, String), String> = Default::default();
    for task in tasks {
        let name = task["body"]["taskName"].as_str().expect("taskName");
        for phone in phones_of(&task["body"]) {
            let key = (campaign_of(name), phone);
            if let Some(first) = seen.insert(key.clone(), name.to_owned()) {
                panic!(
                    "number {} of campaign {} was accepted twice: in {first:?} and in {name:?}",
                    key.1, key.0
                );
            }
        }
    }
}

/// The `userPhone`s of a createandcall body, sorted.
pub fn phones_of(body: &Value) -> Vec<String> {
    let mut phones: Vec<String> = body["callList"]
        .as_array()
        .expect("callList")
        .iter()
        .map(|item| item["userPhone"].as_str().expect("userPhone").to_owned())
        .collect();
    phones.sort();
    phones
}

pub fn digits_of(numbers: &[u32]) -> Vec<String> {
    let mut digits: Vec<String> = numbers.iter().map(|n| uk_digits(*n)).collect();
    digits.sort();
    digits
}

/// What apply printed for one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLine {
    /// `created`, `rejected`, `in-doubt` or `not-sent`.
    pub kind: &'static str,
    pub campaign: String,
    pub task: String,
    pub numbers: usize,
    pub line: String,
}

impl TaskLine {
    pub fn parse(line: &str) -> Option<TaskLine> {
        let (kind, rest) = [
            ("created", "created    "),
            ("rejected", "rejected   "),
            ("in-doubt", "IN DOUBT   "),
            ("not-sent", "not sent   "),
        ]
        .into_iter()
        .find_map(|(kind, prefix)| Some((kind, line.strip_prefix(prefix)?)))?;
        let (campaign, rest) = rest.split_once("/\"")?;
        let (task, rest) = rest.split_once("\" (")?;
        let numbers = rest.split_once(' ')?.0.parse().ok()?;
        Some(TaskLine {
            kind,
            campaign: campaign.to_owned(),
            task: task.to_owned(),
            numbers,
            line: line.to_owned(),
        })
    }
}

/// `Apply finished: X created (Y numbers), R rejected, D in doubt, S not sent.`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApplySummary {
    pub created: usize,
    pub numbers: usize,
    pub rejected: usize,
    pub in_doubt: usize,
    pub not_sent: usize,
}

impl ApplySummary {
    pub fn parse(line: &str) -> Option<ApplySummary> {
        let rest = line.strip_prefix("Apply finished: ")?;
        let numbers: Vec<usize> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter(|part| !part.is_empty())
            .map(|part| part.parse().ok())
            .collect::<Option<_>>()?;
        match numbers[..] {
            [created, numbers, rejected, in_doubt, not_sent] => Some(ApplySummary {
                created,
                numbers,
                rejected,
                in_doubt,
                not_sent,
            }),
            _ => None,
        }
    }
}

/// One row of the `attempts` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    pub id: i64,
    pub campaign: String,
    pub base_name: String,
    pub task_name: String,
    pub status: String,
    pub number_count: i64,
    pub req_id: Option<String>,
    pub code: Option<i64>,
}

/// One row of the `numbers` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberRow {
    pub campaign: String,
    /// Derived from the campaign and the number, as campaignctl does: state stores no orderID
    /// (the store takes no other).
    pub order_id: String,
    pub attempt_id: i64,
    pub phone: String,
}

impl NumberRow {
    fn new(campaign: String, attempt_id: i64, phone: String) -> NumberRow {
        NumberRow {
            order_id: campaignctl::expand::order_id(&campaign, &phone),
            campaign,
            attempt_id,
            phone,
        }
    }
}

/// The state file's content, read with rusqlite.
#[derive(Debug, Clone, Default)]
pub struct StateRows {
    pub attempts: Vec<AttemptRow>,
    pub numbers: Vec<NumberRow>,
}

impl StateRows {
    pub fn read(path: &Path) -> StateRows {
        assert!(path.exists(), "no state file at {}", path.display());
        let conn = rusqlite::Connection::open(path).expect("open state");
        conn.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        let mut attempts = conn
            .prepare(
                "SELECT id, campaign, base_name, task_name, status, number_count, req_id, code \
                 FROM attempts ORDER BY id",
            )
            .expect("attempts table");
        let attempts = attempts
            .query_map([], |row| {
                Ok(AttemptRow {
                    id: row.get(0)?,
                    campaign: row.get(1)?,
                    base_name: row.get(2)?,
                    task_name: row.get(3)?,
                    status: row.get(4)?,
                    number_count: row.get(5)?,
                    req_id: row.get(6)?,
                    code: row.get(7)?,
                })
            })
            .expect("query attempts")
            .collect::<Result<Vec<_>, _>>()
            .expect("attempt rows");
        let mut numbers = conn
            .prepare(
                "SELECT campaigns.name, attempt_id, CAST(phone AS TEXT) FROM numbers \
                 JOIN campaigns ON campaigns.id = numbers.campaign_id",
            )
            .expect("numbers table");
        let numbers = numbers
            .query_map([], |row| {
                Ok(NumberRow::new(row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .expect("query numbers")
            .collect::<Result<Vec<_>, _>>()
            .expect("number rows");
        StateRows { attempts, numbers }
    }

    /// The attempts and numbers of a PostgreSQL workspace, read with the `postgres` client.
    pub fn read_postgres(url: &str, workspace: &str) -> StateRows {
        let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
        let attempts = client
            .query(
                "SELECT id, campaign, base_name, task_name, status, number_count, req_id, code \
                 FROM campaignctl.attempts WHERE workspace = $1 ORDER BY id",
                &[&workspace],
            )
            .expect("attempts table")
            .iter()
            .map(|row| AttemptRow {
                id: row.get(0),
                campaign: row.get(1),
                base_name: row.get(2),
                task_name: row.get(3),
                status: row.get(4),
                number_count: row.get(5),
                req_id: row.get(6),
                code: row.get(7),
            })
            .collect();
        let numbers = client
            .query(
                "SELECT campaign, attempt_id, phone::text FROM campaignctl.numbers \
                 WHERE workspace = $1",
                &[&workspace],
            )
            .expect("numbers table")
            .iter()
            .map(|row| NumberRow::new(row.get(0), row.get(1), row.get(2)))
            .collect();
        StateRows { attempts, numbers }
    }

    /// The live (not rejected) attempt named `campaign`/`task_name`.
    #[track_caller]
    pub fn live(&self, campaign: &str, task_name: &str) -> &AttemptRow {
        let mut live = self.attempts.iter().filter(|a| {
            a.campaign == campaign && a.task_name == task_name && a.status != "rejected"
        });
        let found = live
            .next()
            .unwrap_or_else(|| panic!("no live attempt {campaign}/{task_name} in {self:#?}"));
        assert!(
            live.next().is_none(),
            "two live attempts {campaign}/{task_name}"
        );
        found
    }

    /// Every attempt named `campaign`/`task_name`, oldest first.
    pub fn named(&self, campaign: &str, task_name: &str) -> Vec<&AttemptRow> {
        self.attempts
            .iter()
            .filter(|a| a.campaign == campaign && a.task_name == task_name)
            .collect()
    }

    /// The phones state keeps for an attempt, sorted.
    pub fn phones_of(&self, attempt_id: i64) -> Vec<String> {
        let mut phones: Vec<String> = self
            .numbers
            .iter()
            .filter(|n| n.attempt_id == attempt_id)
            .map(|n| n.phone.clone())
            .collect();
        phones.sort();
        phones
    }
}

/// xorshift64*: a tiny seeded generator, so a failing kill schedule can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..bound` (bound > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
}

/// The seed from `env` when set, else one from the clock.
pub fn seed(env: &str) -> u64 {
    std::env::var(env)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock");
            now.as_nanos() as u64 ^ u64::from(std::process::id())
        })
}
