//! `campaignctl state reconcile` end to end: applies whose answers were lost leave tasks in
//! doubt; reconcile asks the real sandbox for its call records over loopback and settles exactly
//! the tasks whose calls started, and nothing else, ever.
//!
//! Every phone number is fictional: Ofcom's drama range 07700 900000-900999.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

/// `state reconcile ARGS --endpoint SANDBOX --rate 0` with the test credentials.
fn reconcile(ws: &Workspace, sandbox: &SandboxProcess, args: &[&str]) -> Run {
    run(reconcile_command(ws, sandbox, args))
}

fn reconcile_command(
    ws: &Workspace,
    sandbox: &SandboxProcess,
    args: &[&str],
) -> std::process::Command {
    let mut full = vec!["state", "reconcile"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--endpoint", sandbox.url(), "--rate", "0"]);
    ws.command_with_credentials(&full)
}

/// A campaign of one task whose `startupType` is `startup`.
fn campaign_starting(name: &str, numbers: &[u32], startup: &str) -> String {
    inline_campaign(name, &format!("{name}-task"), numbers)
        .replace("startupType: immediate", &format!("startupType: {startup}"))
}

/// Applies `file` with the sandbox answering every createandcall request as `fault` says
/// (none: as usual); the faults are cleared afterwards.
fn apply_with(ws: &Workspace, sandbox: &SandboxProcess, file: &str, fault: Option<&str>) -> Run {
    sandbox.set_faults(&fault.map(|f| vec![format!("*={f}")]).unwrap_or_default());
    let applied = ws.apply(sandbox, &[file]);
    sandbox.set_faults(&[]);
    applied
}

/// Everything in the state file, journal and version included: equal means nothing changed.
fn fingerprint(ws: &Workspace) -> String {
    let rows = ws.state_rows();
    let conn = rusqlite::Connection::open(ws.state()).expect("open state");
    let mut all = conn
        .prepare(
            "SELECT 'a', id, status, message, updated_at FROM attempts \
             UNION ALL SELECT 'j', seq, event, detail, at FROM journal \
             UNION ALL SELECT 'm', 0, key, value, '' FROM meta ORDER BY 1, 2, 3",
        )
        .expect("query");
    let lines: Vec<String> = all
        .query_map([], |row| {
            Ok(format!(
                "{:?} {:?} {:?} {:?} {:?}",
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, String>(4)?
            ))
        })
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("read");
    format!(
        "{:?}\n{:?}\n{}",
        rows.attempts,
        rows.numbers,
        lines.join("\n")
    )
}

/// The `reconciled` journal events: (attempt id, detail as JSON).
fn reconciled_events(ws: &Workspace) -> Vec<(i64, Value)> {
    let conn = rusqlite::Connection::open(ws.state()).expect("open state");
    let mut events = conn
        .prepare("SELECT attempt_id, detail FROM journal WHERE event = 'reconciled' ORDER BY seq")
        .expect("query");
    events
        .query_map([], |row| Ok((row.get(0)?, row.get::<_, String>(1)?)))
        .expect("rows")
        .map(|row| {
            let (id, detail) = row.expect("row");
            (id, serde_json::from_str(&detail).expect("detail is JSON"))
        })
        .collect()
}

fn order_ids_of(ws: &Workspace, attempt_id: i64) -> Vec<String> {
    ws.state_rows()
        .numbers
        .into_iter()
        .filter(|n| n.attempt_id == attempt_id)
        .map(|n| n.order_id)
        .collect()
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|item| item["taskName"].as_str().expect("taskName").to_owned())
        .collect();
    names.sort();
    names
}

/// Four tasks: `live` dials at once but its answer was dropped; `manual` was created (answer
/// dropped) but never dials; `lost` was dropped before the sandbox took it; `fine` was created
/// and answered. Only `live` can be proven.
fn four_outcomes(ws: &Workspace, sandbox: &SandboxProcess) {
    for (name, numbers, startup, fault, code) in [
        ("live", &[1, 2][..], "immediate", Some("drop+record"), 1),
        ("manual", &[3][..], "manual", Some("drop+record"), 1),
        ("lost", &[4, 5][..], "immediate", Some("drop"), 1),
        ("fine", &[6][..], "immediate", None, 0),
    ] {
        let file = format!("campaigns/{name}.campaign.yaml");
        ws.write(&file, &campaign_starting(name, numbers, startup));
        apply_with(ws, sandbox, &file, fault).expect_code(code);
    }
    let rows = ws.state_rows();
    for name in ["live", "manual", "lost"] {
        assert_eq!(rows.live(name, &format!("{name}-task")).status, "in-doubt");
    }
    assert_eq!(rows.live("fine", "fine-task").status, "created");
}

#[test]
fn reconcile_settles_exactly_the_tasks_whose_calls_started() {
    let ws = Workspace::new();
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    four_outcomes(&ws, &sandbox);
    let accepted = sandbox.requests().len();

    // A dry run says what it would settle and changes nothing.
    let before = fingerprint(&ws);
    let dry = reconcile(&ws, &sandbox, &["--dry-run", "--format", "json"]);
    dry.expect_code(0);
    let report = dry.json();
    assert_eq!(report["formatVersion"], 1, "{report:#}");
    assert_eq!(report["dryRun"], true, "{report:#}");
    assert_eq!(report["query"], "cdr/page", "{report:#}");
    assert_eq!(names(&report["settled"]), ["live-task"], "{report:#}");
    assert_eq!(
        names(&report["inDoubt"]),
        ["lost-task", "manual-task"],
        "{report:#}"
    );
    assert_eq!(fingerprint(&ws), before, "a dry run changed state");

    let settled = reconcile(&ws, &sandbox, &[]);
    settled.expect_code(0);
    let out = &settled.stdout;
    assert!(
        out.lines()
            .any(|l| l.starts_with("created") && l.contains("live/\"live-task\"")),
        "{}",
        settled.describe()
    );
    for name in ["manual", "lost"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("IN DOUBT") && l.contains(&format!("{name}-task"))),
            "{}",
            settled.describe()
        );
    }
    assert!(
        out.contains("1 settled as created, 2 still in doubt"),
        "{}",
        settled.describe()
    );
    // What a person can do about the rest.
    assert!(out.contains("campaignctl state resolve"), "{out}");
    assert!(out.contains("--not-created"), "{out}");
    assert!(
        !out.contains("fine-task"),
        "only tasks in doubt are looked at: {out}"
    );

    let rows = ws.state_rows();
    let live = rows.live("live", "live-task");
    assert_eq!(live.status, "created");
    assert_eq!(
        rows.phones_of(live.id),
        digits_of(&[1, 2]),
        "numbers stay sent"
    );
    assert_eq!(rows.live("manual", "manual-task").status, "in-doubt");
    assert_eq!(rows.live("lost", "lost-task").status, "in-doubt");
    assert_eq!(rows.live("fine", "fine-task").status, "created");

    // The evidence is in the journal and shown by `state show`.
    let events = reconciled_events(&ws);
    assert_eq!(events.len(), 1, "{events:?}");
    let (attempt_id, evidence) = &events[0];
    assert_eq!(*attempt_id, live.id);
    assert_eq!(evidence["api"], "cdr/page", "{evidence:#}");
    let order_id = evidence["orderId"].as_str().expect("orderId");
    assert!(order_ids_of(&ws, live.id).iter().any(|id| id == order_id));
    assert_eq!(evidence["record"]["orderId"], order_id, "{evidence:#}");
    assert!(evidence["taskId"].as_str().is_some_and(|id| !id.is_empty()));
    let show = ws.run(&["state", "show", "live/live-task"]);
    show.expect_code(0);
    assert!(
        show.stdout.contains("call records show") && show.stdout.contains(order_id),
        "{}",
        show.describe()
    );

    // A re-plan sends nothing of the settled task, and the rest stay blocked.
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(plan["summary"]["create"], 0, "{plan:#}");
    assert_eq!(plan["summary"]["inDoubt"], 2, "{plan:#}");
    let again = ws.apply(&sandbox, &["campaigns"]);
    // Exit 1: tasks in doubt still hold numbers, and apply says so.
    again.expect_code(1);
    assert!(again.tasks().is_empty(), "{}", again.describe());
    assert!(
        again.stdout.contains("0 tasks to create") && again.stderr.contains("2 task(s)"),
        "{}",
        again.describe()
    );
    assert_eq!(sandbox.requests().len(), accepted, "nothing was sent again");

    // Reconciling again finds nothing new and changes nothing.
    let before = fingerprint(&ws);
    let repeat = reconcile(&ws, &sandbox, &["--format", "json"]);
    repeat.expect_code(0);
    assert_eq!(
        repeat.json()["summary"]["settled"],
        0,
        "{}",
        repeat.describe()
    );
    assert_eq!(fingerprint(&ws), before);

    // A task named must be in doubt.
    let refused = reconcile(&ws, &sandbox, &["live/live-task"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("not in doubt"),
        "{}",
        refused.describe()
    );
    let named = reconcile(&ws, &sandbox, &["manual/manual-task", "--format", "json"]);
    named.expect_code(0);
    assert_eq!(
        names(&named.json()["inDoubt"]),
        ["manual-task"],
        "{}",
        named.describe()
    );
}

#[test]
fn per_order_id_queries_need_the_tenant_id_and_settle_alike() {
    let ws = Workspace::new();
    let sandbox = SandboxProcess::start_with(ws.root(), &["--tenant-id", "4242"]);
    four_outcomes(&ws, &sandbox);
    let before = fingerprint(&ws);

    let missing = reconcile(&ws, &sandbox, &["--query", "order-id"]);
    missing.expect_code(1);
    assert!(
        missing.stderr.contains("--tenant-id") && missing.stderr.contains("NXCC_TENANT_ID"),
        "{}",
        missing.describe()
    );
    let mut wrong = reconcile_command(&ws, &sandbox, &[]);
    wrong.env("NXCC_TENANT_ID", "7");
    let wrong = run(wrong);
    wrong.expect_code(1);
    assert!(
        wrong.stderr.contains("cdr/queryByOrderId") && wrong.stderr.contains("code 1005"),
        "{}",
        wrong.describe()
    );
    assert_eq!(fingerprint(&ws), before, "a refused query changed state");

    let mut right = reconcile_command(&ws, &sandbox, &["--format", "json"]);
    right.env("NXCC_TENANT_ID", "4242");
    let right = run(right);
    right.expect_code(0);
    let report = right.json();
    assert_eq!(report["query"], "cdr/queryByOrderId", "{report:#}");
    assert_eq!(names(&report["settled"]), ["live-task"], "{report:#}");
    // The unproven tasks had each of their orderIDs asked about (fewer than --per-task).
    let asked: BTreeMap<&str, u64> = report["inDoubt"]
        .as_array()
        .expect("inDoubt")
        .iter()
        .map(|t| {
            let name = t["taskName"].as_str().expect("name");
            (name, t["orderIdsQueried"].as_u64().expect("queried"))
        })
        .collect();
    assert_eq!(
        asked,
        BTreeMap::from([("lost-task", 2), ("manual-task", 1)]),
        "{report:#}"
    );
    let events = reconciled_events(&ws);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].1["api"], "cdr/queryByOrderId");
    let rows = ws.state_rows();
    assert_eq!(rows.live("live", "live-task").status, "created");
    assert_eq!(rows.live("manual", "manual-task").status, "in-doubt");
    assert_eq!(rows.live("lost", "lost-task").status, "in-doubt");
}

#[test]
fn calls_that_have_not_started_yet_prove_nothing_until_they_do() {
    let ws = Workspace::new();
    let sandbox = SandboxProcess::start_with(ws.root(), &["--calls-after", "2500"]);
    ws.write(
        "campaigns/slow.campaign.yaml",
        &campaign_starting("slow", &[20, 21], "immediate"),
    );
    apply_with(
        &ws,
        &sandbox,
        "campaigns/slow.campaign.yaml",
        Some("drop+record"),
    )
    .expect_code(1);

    let early = reconcile(&ws, &sandbox, &["--format", "json"]);
    early.expect_code(0);
    assert_eq!(
        names(&early.json()["inDoubt"]),
        ["slow-task"],
        "{}",
        early.describe()
    );
    assert_eq!(ws.state_rows().live("slow", "slow-task").status, "in-doubt");

    std::thread::sleep(Duration::from_millis(2600));
    let late = reconcile(&ws, &sandbox, &["--format", "json"]);
    late.expect_code(0);
    assert_eq!(
        names(&late.json()["settled"]),
        ["slow-task"],
        "{}",
        late.describe()
    );
    assert_eq!(ws.state_rows().live("slow", "slow-task").status, "created");
}

#[test]
fn records_beyond_the_first_page_are_found_and_the_page_limit_is_an_error() {
    let ws = Workspace::new();
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    // 120 calls of a created task fill the first page of the in-doubt task's window.
    let busy: Vec<u32> = (100..220).collect();
    ws.write(
        "campaigns/busy.campaign.yaml",
        &campaign_starting("busy", &busy, "immediate"),
    );
    apply_with(&ws, &sandbox, "campaigns/busy.campaign.yaml", None).expect_code(0);
    ws.write(
        "campaigns/late.campaign.yaml",
        &campaign_starting("late", &[300], "immediate"),
    );
    apply_with(
        &ws,
        &sandbox,
        "campaigns/late.campaign.yaml",
        Some("drop+record"),
    )
    .expect_code(1);

    let before = fingerprint(&ws);
    let limited = reconcile(&ws, &sandbox, &["--max-pages", "1"]);
    limited.expect_code(1);
    assert!(
        limited.stderr.contains("more than 1 pages")
            && limited.stderr.contains("nothing was changed"),
        "{}",
        limited.describe()
    );
    assert_eq!(fingerprint(&ws), before);

    let paged = reconcile(&ws, &sandbox, &["--format", "json"]);
    paged.expect_code(0);
    assert_eq!(
        names(&paged.json()["settled"]),
        ["late-task"],
        "{}",
        paged.describe()
    );
}

#[test]
fn faults_and_bad_answers_during_reconcile_change_nothing() {
    let ws = Workspace::new();
    let sandbox = SandboxProcess::start_with(
        ws.root(),
        &[
            "--records-fault=1=http:500",
            "--records-fault=2=drop",
            "--records-fault=3=code:99",
            "--records-fault=4=http:200",
            "--records-fault=5=code:41000",
        ],
    );
    ws.write(
        "campaigns/live.campaign.yaml",
        &campaign_starting("live", &[30, 31], "immediate"),
    );
    apply_with(
        &ws,
        &sandbox,
        "campaigns/live.campaign.yaml",
        Some("drop+record"),
    )
    .expect_code(1);
    let before = fingerprint(&ws);

    for expected in [
        "HTTP 500",
        "no complete answer",
        "code 99",
        "the answer cannot be read",
        "code 41000",
    ] {
        let failed = reconcile(&ws, &sandbox, &[]);
        failed.expect_code(1);
        assert!(
            failed.stderr.contains(expected) && failed.stderr.contains("nothing was changed"),
            "expected {expected:?}\n{}",
            failed.describe()
        );
        assert!(!failed.stderr.contains("panicked"), "{}", failed.describe());
        assert_eq!(fingerprint(&ws), before, "after {expected:?}");
    }

    // Wrong credentials are refused by the provider's own checks.
    for (key, secret, expected) in [
        (KEY, "not-the-secret", "code 1003"),
        ("not-the-key", SECRET, "code 1005"),
    ] {
        let mut command = reconcile_command(&ws, &sandbox, &[]);
        command
            .env("NXCC_ACCESS_KEY", key)
            .env("NXCC_ACCESS_SECRET", secret);
        let refused = run(command);
        refused.expect_code(1);
        assert!(refused.stderr.contains(expected), "{}", refused.describe());
        assert_eq!(fingerprint(&ws), before);
    }
    let anonymous = ws.run(&["state", "reconcile", "--endpoint", sandbox.url()]);
    anonymous.expect_code(1);
    assert!(
        anonymous.stderr.contains("NXCC_ACCESS_KEY"),
        "{}",
        anonymous.describe()
    );
    assert_eq!(fingerprint(&ws), before);

    // Bad input is named before anything is asked.
    for (args, expected) in [
        (&["--rate=1e10"][..], "expected requests per second"),
        (&["--sandbox"][..], "cannot be used with --sandbox"),
        (&["--search-hours=0"][..], "--search-hours"),
    ] {
        let refused = reconcile(&ws, &sandbox, args);
        refused.expect_code(1);
        assert!(refused.stderr.contains(expected), "{}", refused.describe());
        assert_eq!(fingerprint(&ws), before);
    }
    let mut elsewhere = ws.command_with_credentials(&["state", "reconcile"]);
    elsewhere.args(["--endpoint", "api.example"]);
    let elsewhere = run(elsewhere);
    elsewhere.expect_code(1);
    assert!(
        elsewhere
            .stderr
            .contains("invalid NXCC endpoint `api.example`"),
        "{}",
        elsewhere.describe()
    );

    // The faults were the only reason: once they are used up, the same command settles.
    let settled = reconcile(&ws, &sandbox, &[]);
    settled.expect_code(0);
    assert_eq!(ws.state_rows().live("live", "live-task").status, "created");
}

#[test]
fn the_sandbox_teaches_its_call_records_and_refuses_record_there() {
    let ws = Workspace::new();
    let help = ws.run(&["sandbox", "--help"]);
    help.expect_code(0);
    for taught in [
        "--calls-after <MS>",
        "--tenant-id <N>",
        "--records-fault <SPEC>",
        "/saas/cc/openapi/cdr/page",
        "/saas/cc/openapi/cdr/queryByOrderId",
        "startupType 3",
    ] {
        assert!(
            help.stdout.contains(taught),
            "{taught}\n{}",
            help.describe()
        );
    }
    let refused = ws.run(&["sandbox", "--records-fault", "1=drop+record"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("createandcall only"),
        "{}",
        refused.describe()
    );
}

#[test]
fn progress_shows_on_a_terminal_and_never_in_the_report() {
    let ws = Workspace::new();
    let sandbox = SandboxProcess::start_with(ws.root(), &["--records-fault=*=delay:600"]);
    ws.write(
        "campaigns/live.campaign.yaml",
        &campaign_starting("live", &[40], "immediate"),
    );
    apply_with(
        &ws,
        &sandbox,
        "campaigns/live.campaign.yaml",
        Some("drop+record"),
    )
    .expect_code(1);

    let args = [
        "state",
        "reconcile",
        "--format",
        "json",
        "--rate",
        "0",
        "--endpoint",
        sandbox.url(),
    ];
    let mut command = crate::terminal::under_terminal(&ws, &args, ">report.json");
    command
        .env("NXCC_ACCESS_KEY", KEY)
        .env("NXCC_ACCESS_SECRET", SECRET);
    let output = command.output().expect("script runs");
    let shown = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("cdr/page 1 of"),
        "no progress on the terminal: {shown:?}"
    );
    let report: Value = serde_json::from_str(&ws.read("report.json")).expect("the report is JSON");
    assert_eq!(names(&report["settled"]), ["live-task"], "{report:#}");

    // Without a terminal, nothing but the report.
    let piped = reconcile(&ws, &sandbox, &["--format", "json"]);
    piped.expect_code(0);
    assert!(piped.stderr.is_empty(), "{}", piped.describe());
}
