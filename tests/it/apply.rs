//! `campaignctl apply` end to end: the real binary, a real `campaignctl sandbox` on a loopback
//! port, campaign files and a state file in a temporary directory.
//!
//! What is proven here is the core promise: within a campaign no number goes out in two requests
//! that could have succeeded, across re-runs, injected faults, SIGKILL at random points and
//! concurrent applies; and a saved plan is sent exactly as reviewed, or refused.
//!
//! Every phone number is fictional: Ofcom's drama range 020 7946 0000-0999.

#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::Value;

/// An apply that ended with tasks of its campaigns in doubt: exit 1, and it says so.
#[track_caller]
fn expect_held(run: &Run) {
    run.expect_code(1);
    assert!(only_held(&run.stderr), "{}", run.describe());
}

/// Whether the only error an apply reported is that tasks are held in doubt.
fn only_held(stderr: &str) -> bool {
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    errors.len() == 1 && errors[0].contains("are in doubt")
}

/// The plan's changes with `action`, as (taskName, change).
fn changes(plan: &Value, action: &str) -> Vec<(String, Value)> {
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|change| change["action"] == action)
        .map(|change| {
            let name = change["taskName"].as_str().expect("taskName").to_owned();
            (name, change.clone())
        })
        .collect()
}

fn summary_of(plan: &Value, field: &str) -> u64 {
    plan["summary"][field]
        .as_u64()
        .unwrap_or_else(|| panic!("summary.{field} in {plan:#}"))
}

/// (campaign, task, numbers) of apply's lines of one kind, sorted.
fn lines_of(run: &Run, kind: &str) -> Vec<(String, String, usize)> {
    let mut lines: Vec<_> = run
        .tasks()
        .into_iter()
        .filter(|line| line.kind == kind)
        .map(|line| (line.campaign, line.task, line.numbers))
        .collect();
    lines.sort();
    lines
}

fn line(campaign: &str, task: &str, numbers: usize) -> (String, String, usize) {
    (campaign.to_owned(), task.to_owned(), numbers)
}

/// Within each campaign (told apart by `campaign_of`, given the task name without a follow-up's
/// ` #N`), no orderID and no number was accepted twice by the sandbox, whatever task name it
/// came under; fails on the first repeat.
#[track_caller]
pub(crate) fn assert_no_order_id_twice(tasks: &[Value], campaign_of: impl Fn(&str) -> String) {
    let mut seen: HashMap<(String, &str, String), String> = HashMap::new();
    for task in tasks {
        let name = task["body"]["taskName"].as_str().expect("taskName");
        let base = name.rsplit_once(" #").map_or(name, |(base, _)| base);
        let campaign = campaign_of(base);
        for item in task["body"]["callList"].as_array().expect("callList") {
            for field in ["orderID", "userPhone"] {
                let value = item[field].as_str().expect(field).to_owned();
                let key = (campaign.clone(), field, value);
                if let Some(first) = seen.insert(key.clone(), name.to_owned()) {
                    panic!(
                        "{field} {} of campaign {} was accepted twice: in {first:?} and in {name:?}",
                        key.2, key.0
                    );
                }
            }
        }
    }
}

#[track_caller]
fn assert_order_id_form(body: &Value) {
    for item in body["callList"].as_array().expect("callList") {
        let id = item["orderID"].as_str().expect("orderID");
        assert!(
            id.len() == 32
                && id
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)),
            "orderID {id:?} is not 32 uppercase hex digits"
        );
    }
}

/// A campaign with one task per `part`, each dialing the CSV `data/{part}.csv`.
fn matrix_campaign(name: &str, parts: &[&str], exclude: &str) -> String {
    campaign_yaml(
        name,
        &format!("{name}-{{{{ part }}}}"),
        &format!(
            "matrix:\n  part: [{}]\nnumbers:\n  - csv: \"data/{{{{ part }}}}.csv\"\n    \
             other: \"{{{{ row.id }}}}\"\n{exclude}",
            parts.join(", ")
        ),
    )
}

// ------------------------------------------------------------------------------------------------
// Plan semantics through apply
// ------------------------------------------------------------------------------------------------

#[test]
fn create_then_no_op_on_rerun() {
    let ws = Workspace::new();
    ws.write("campaigns/data/north.csv", &csv_of(&[1, 2, 3]));
    ws.write("campaigns/data/south.csv", &csv_of(&[4, 5]));
    ws.write(
        "campaigns/renewal.campaign.yaml",
        &matrix_campaign("renewal", &["north", "south"], ""),
    );
    ws.write(
        "campaigns/hello.campaign.yaml",
        &inline_campaign("hello", "hello-world", &[10, 11]),
    );
    let sandbox = SandboxProcess::start(ws.root(), &[]);

    ws.run(&["plan", "campaigns", "--detailed-exitcode"])
        .expect_code(2);
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(plan["formatVersion"], 1, "{plan:#}");
    assert_eq!(summary_of(&plan, "create"), 3, "{plan:#}");
    assert_eq!(summary_of(&plan, "numbers"), 7, "{plan:#}");
    let planned: BTreeMap<String, u64> = changes(&plan, "create")
        .into_iter()
        .map(|(name, change)| (name, change["numberCount"].as_u64().expect("count")))
        .collect();
    assert_eq!(
        planned,
        BTreeMap::from([
            ("hello-world".to_owned(), 2),
            ("renewal-north".to_owned(), 3),
            ("renewal-south".to_owned(), 2),
        ])
    );
    assert!(sandbox.requests().is_empty(), "plan must not send anything");

    // SHA-256 signatures are accepted as well as the default MD5 (used by every other test).
    let applied = ws.apply(&sandbox, &["campaigns", "--sign-algorithm", "sha256"]);
    applied.expect_code(0);
    assert_eq!(
        lines_of(&applied, "created"),
        vec![
            line("hello", "hello-world", 2),
            line("renewal", "renewal-north", 3),
            line("renewal", "renewal-south", 2),
        ],
        "{}",
        applied.describe()
    );
    assert_eq!(applied.tasks().len(), 3, "{}", applied.describe());
    assert_eq!(
        applied.summary(),
        ApplySummary {
            created: 3,
            numbers: 7,
            ..ApplySummary::default()
        }
    );

    let tasks = sandbox.tasks();
    let bodies = bodies_by_task_name(&tasks);
    assert_eq!(bodies.len(), 3);
    assert_eq!(phones_of(&bodies["hello-world"]), digits_of(&[10, 11]));
    assert_eq!(phones_of(&bodies["renewal-north"]), digits_of(&[1, 2, 3]));
    assert_eq!(phones_of(&bodies["renewal-south"]), digits_of(&[4, 5]));
    for body in bodies.values() {
        assert_order_id_form(body);
        assert_eq!(body["country"], "GB");
        assert_eq!(body["dispatchType"], 0);
        assert_eq!(body["startupType"], 3);
    }
    // `other` comes from the CSV row.
    let north = bodies["renewal-north"]["callList"]
        .as_array()
        .expect("list");
    let others: BTreeSet<&str> = north
        .iter()
        .map(|item| item["other"].as_str().expect("other"))
        .collect();
    assert_eq!(others, BTreeSet::from(["C001", "C002", "C003"]));
    assert_no_order_id_twice(&tasks, |name| {
        name.split('-').next().unwrap_or_default().to_owned()
    });

    // The reqId printed, recorded in state and given by the sandbox agree.
    let rows = ws.state_rows();
    for task in &tasks {
        let name = task["body"]["taskName"].as_str().expect("name");
        let req_id = task["reqId"].as_str().expect("reqId");
        let campaign = if name == "hello-world" {
            "hello"
        } else {
            "renewal"
        };
        let attempt = rows.live(campaign, name);
        assert_eq!(attempt.status, "created");
        assert_eq!(attempt.req_id.as_deref(), Some(req_id));
        assert_eq!(rows.phones_of(attempt.id), phones_of(&task["body"]));
        assert!(
            applied
                .stdout
                .lines()
                .any(|l| l.starts_with("created") && l.contains(name) && l.contains(req_id)),
            "no created line with reqId {req_id} for {name}\n{}",
            applied.describe()
        );
    }

    // Again: nothing is sent, and the plan is all no-op.
    let requests_before = sandbox.requests().len();
    let again = ws.apply(&sandbox, &["campaigns"]);
    again.expect_code(0);
    assert!(again.tasks().is_empty(), "{}", again.describe());
    assert!(
        again.stdout.contains("Nothing to send"),
        "{}",
        again.describe()
    );
    assert_eq!(sandbox.requests().len(), requests_before);
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(summary_of(&plan, "create"), 0, "{plan:#}");
    assert_eq!(summary_of(&plan, "numbers"), 0, "{plan:#}");
    assert_eq!(summary_of(&plan, "noOp"), 3, "{plan:#}");
    assert_eq!(changes(&plan, "no-op").len(), 3, "{plan:#}");
    ws.run(&["plan", "campaigns", "--detailed-exitcode"])
        .expect_code(0);

    let list = ws.run(&["state", "list"]);
    list.expect_code(0);
    for name in ["hello-world", "renewal-north", "renewal-south"] {
        assert!(
            list.stdout
                .lines()
                .any(|l| l.contains(name) && l.contains("created")),
            "{}",
            list.describe()
        );
    }
}

#[test]
fn new_csv_rows_become_a_follow_up_task_with_only_them() {
    let ws = Workspace::new();
    ws.write("campaigns/data/customers.csv", &csv_of(&[20, 21, 22]));
    ws.write(
        "campaigns/reminders.campaign.yaml",
        &campaign_yaml(
            "reminders",
            "reminder",
            "numbers:\n  - csv: data/customers.csv\n    other: \"{{ row.id }}\"\n",
        ),
    );
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    ws.apply(&sandbox, &["campaigns"]).expect_code(0);
    let first_ids: BTreeMap<String, String> = ws
        .state_rows()
        .numbers
        .into_iter()
        .map(|n| (n.phone, n.order_id))
        .collect();
    assert_eq!(first_ids.len(), 3);

    ws.append(
        "campaigns/data/customers.csv",
        &format!("{}{}", csv_row(23), csv_row(24)),
    );
    let plan = ws.plan_json(&["campaigns"]);
    let creates = changes(&plan, "create");
    assert_eq!(creates.len(), 1, "{plan:#}");
    let (name, change) = &creates[0];
    assert_eq!(name, "reminder #2", "{plan:#}");
    assert_eq!(change["baseName"], "reminder", "{plan:#}");
    assert_eq!(change["followUp"], true, "{plan:#}");
    assert_eq!(change["numberCount"], 2, "{plan:#}");
    assert_eq!(change["alreadySent"], 3, "{plan:#}");
    assert_eq!(summary_of(&plan, "numbers"), 2, "{plan:#}");

    let applied = ws.apply(&sandbox, &["campaigns"]);
    applied.expect_code(0);
    assert_eq!(
        lines_of(&applied, "created"),
        vec![line("reminders", "reminder #2", 2)],
        "{}",
        applied.describe()
    );
    let bodies = bodies_by_task_name(&sandbox.tasks());
    assert_eq!(bodies.len(), 2);
    assert_eq!(phones_of(&bodies["reminder"]), digits_of(&[20, 21, 22]));
    assert_eq!(phones_of(&bodies["reminder #2"]), digits_of(&[23, 24]));

    // orderIDs are stable: the numbers sent first keep theirs.
    let rows = ws.state_rows();
    for number in rows.numbers.iter() {
        if let Some(first) = first_ids.get(&number.phone) {
            assert_eq!(
                first, &number.order_id,
                "orderID of {} changed",
                number.phone
            );
        }
    }
    assert_eq!(rows.live("reminders", "reminder #2").status, "created");
    assert_eq!(rows.live("reminders", "reminder #2").base_name, "reminder");

    ws.append("campaigns/data/customers.csv", &csv_row(25));
    let plan = ws.plan_json(&["campaigns"]);
    let creates = changes(&plan, "create");
    assert_eq!(creates.len(), 1, "{plan:#}");
    assert_eq!(creates[0].0, "reminder #3", "{plan:#}");
    assert_eq!(creates[0].1["numberCount"], 1, "{plan:#}");
    assert_eq!(creates[0].1["alreadySent"], 5, "{plan:#}");
    ws.apply(&sandbox, &["campaigns"]).expect_code(0);
    let tasks = sandbox.tasks();
    let bodies = bodies_by_task_name(&tasks);
    assert_eq!(phones_of(&bodies["reminder #3"]), digits_of(&[25]));
    assert_no_order_id_twice(&tasks, |_| "reminders".to_owned());

    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(summary_of(&plan, "create"), 0, "{plan:#}");
}

#[test]
fn excluded_and_already_sent_numbers_never_go_out() {
    let ws = Workspace::new();
    // 102 twice in different spellings; 101 also in b (a duplicate within the campaign).
    ws.write(
        "campaigns/data/a.csv",
        &format!(
            "{}{}C902,+44 20 7946 0102\n{}",
            csv_of(&[101]),
            csv_row(102),
            csv_row(103)
        ),
    );
    ws.write("campaigns/data/b.csv", &csv_of(&[104, 105, 101]));
    ws.write(
        "campaigns/data/dnc.csv",
        "phone,reason\n+442079460105,asked not to be called\n020 7946 0107,complaint\n",
    );
    let exclude = "exclude:\n  - phones: [\"+44 20 7946 0103\"]\n  - csv: data/dnc.csv\n";
    ws.write(
        "campaigns/moves.campaign.yaml",
        &matrix_campaign("moves", &["a", "b"], exclude),
    );
    let sandbox = SandboxProcess::start(ws.root(), &[]);

    let applied = ws.apply(&sandbox, &["campaigns"]);
    applied.expect_code(0);
    let bodies = bodies_by_task_name(&sandbox.tasks());
    assert_eq!(phones_of(&bodies["moves-a"]), digits_of(&[101, 102]));
    assert_eq!(phones_of(&bodies["moves-b"]), digits_of(&[104]));

    // 101 moves from a to b; b also gets the excluded 103 and 107 and a new 106.
    ws.write("campaigns/data/a.csv", &csv_of(&[102]));
    ws.write(
        "campaigns/data/b.csv",
        &csv_of(&[104, 105, 101, 103, 106, 107]),
    );
    let plan = ws.plan_json(&["campaigns"]);
    let creates = changes(&plan, "create");
    assert_eq!(creates.len(), 1, "{plan:#}");
    assert_eq!(creates[0].0, "moves-b #2", "{plan:#}");
    assert_eq!(creates[0].1["numberCount"], 1, "{plan:#}");
    assert_eq!(creates[0].1["alreadySent"], 2, "{plan:#}");
    assert_eq!(summary_of(&plan, "numbers"), 1, "{plan:#}");

    let applied = ws.apply(&sandbox, &["campaigns"]);
    applied.expect_code(0);
    let tasks = sandbox.tasks();
    let bodies = bodies_by_task_name(&tasks);
    assert_eq!(bodies.len(), 3);
    assert_eq!(phones_of(&bodies["moves-b #2"]), digits_of(&[106]));

    let excluded = digits_of(&[103, 105, 107]);
    let mut sent = Vec::new();
    for body in bodies.values() {
        for phone in phones_of(body) {
            assert!(
                !excluded.contains(&phone),
                "excluded number {phone} was sent in {body}"
            );
            sent.push(phone);
        }
    }
    sent.sort();
    assert_eq!(sent, digits_of(&[101, 102, 104, 106]), "each number once");
    assert_no_order_id_twice(&tasks, |_| "moves".to_owned());

    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(summary_of(&plan, "create"), 0, "{plan:#}");
}

// ------------------------------------------------------------------------------------------------
// Faults
// ------------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Created,
    Rejected(i64),
    InDoubt,
}

struct FaultCase {
    /// The actions, armed for the case's first request (`N=ACTIONS`), or for its first two
    /// (`N-M=ACTIONS`) when `two` is set.
    actions: &'static str,
    two: bool,
    /// Actions armed for the request after the case's first, when set.
    then: Option<&'static str>,
    request_timeout: Option<&'static str>,
    expect: Expect,
    /// Whether the sandbox records the task (the provider holds it).
    recorded: bool,
    /// createandcall requests the case makes.
    requests: u64,
}

const fn case(actions: &'static str, expect: Expect, recorded: bool) -> FaultCase {
    FaultCase {
        actions,
        two: false,
        then: None,
        request_timeout: None,
        expect,
        recorded,
        requests: 1,
    }
}

#[test]
fn every_injected_fault_leaves_the_right_outcome_and_is_never_resent() {
    use Expect::*;
    let cases = [
        case("code:88", InDoubt, false),
        case("code:88+record", InDoubt, true),
        case("code:99", InDoubt, false),
        case("code:99+record", InDoubt, true),
        case("code:7777+record", InDoubt, true),
        case("http:500", InDoubt, false),
        case("http:500+record", InDoubt, true),
        case("http:503+record", InDoubt, true),
        case("http:404", InDoubt, false),
        case("http:307+record", InDoubt, true),
        case("http:200+record", InDoubt, true),
        case("drop", InDoubt, false),
        case("drop+record", InDoubt, true),
        FaultCase {
            request_timeout: Some("1"),
            ..case("delay:3000", InDoubt, true)
        },
        case("code:1001", Rejected(1001), false),
        case("code:1002", Rejected(1002), false),
        case("code:1003", Rejected(1003), false),
        case("code:1005", Rejected(1005), false),
        case("code:41000", Rejected(41000), false),
        // One stale ts is signed again and sent once more; two in a row are a rejection.
        FaultCase {
            requests: 2,
            ..case("code:1004", Created, true)
        },
        FaultCase {
            two: true,
            requests: 2,
            ..case("code:1004", Rejected(1004), false)
        },
        // The retry after a stale ts has an outcome of its own.
        FaultCase {
            then: Some("code:88+record"),
            requests: 2,
            ..case("code:1004", InDoubt, true)
        },
        FaultCase {
            then: Some("code:1003"),
            requests: 2,
            ..case("code:1004", Rejected(1003), false)
        },
        case("delay:50", Created, true),
    ];

    let ws = Workspace::new();
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let i = u32::try_from(i).expect("few cases");
        let campaign = format!("fault-{i}");
        let task = format!("task-{i}");
        let file = format!("campaigns/{campaign}.campaign.yaml");
        ws.write(
            &file,
            &inline_campaign(&campaign, &task, &[300 + 2 * i, 301 + 2 * i]),
        );

        let first = sandbox.next_request();
        let when = if case.two {
            format!("{first}-{}", first + 1)
        } else {
            first.to_string()
        };
        let mut specs = vec![format!("{when}={}", case.actions)];
        if let Some(then) = case.then {
            specs.push(format!("{}={then}", first + 1));
        }
        let spec = specs.join(" ");
        sandbox.set_faults(&specs);
        let mut args = vec![file.as_str(), "--parallelism", "1"];
        if let Some(timeout) = case.request_timeout {
            args.extend_from_slice(&["--request-timeout", timeout]);
        }
        let run = ws.apply(&sandbox, &args);
        let context = format!("fault `{spec}`\n{}", run.describe());

        let (kind, status, code) = match case.expect {
            Created => ("created", "created", 0),
            Rejected(_) => ("rejected", "rejected", 1),
            InDoubt => ("in-doubt", "in-doubt", 1),
        };
        let mut check = |ok: bool, what: &str| {
            if !ok {
                failures.push(format!("{what}: {context}"));
            }
        };
        check(
            run.code == Some(code),
            &format!("exit code {code} expected"),
        );
        let lines = run.tasks();
        check(
            lines.len() == 1
                && lines[0].kind == kind
                && lines[0].task == task
                && lines[0].campaign == campaign
                && lines[0].numbers == 2,
            &format!("one `{kind}` line expected"),
        );
        if let Rejected(code) = case.expect {
            check(
                lines
                    .first()
                    .is_some_and(|l| l.line.contains(&format!("code {code}"))),
                &format!("the line should show code {code}"),
            );
        }
        let rows = ws.state_rows();
        let recorded_status = rows
            .named(&campaign, &task)
            .last()
            .map(|a| a.status.clone());
        check(
            recorded_status.as_deref() == Some(status),
            &format!("state should hold {status}, holds {recorded_status:?}"),
        );
        let made = sandbox.next_request() - first;
        check(
            made == case.requests,
            &format!("{} request(s) expected, {made} made", case.requests),
        );
        let accepted = sandbox
            .tasks()
            .iter()
            .filter(|t| t["body"]["taskName"] == task.as_str())
            .count();
        check(
            accepted == usize::from(case.recorded),
            &format!(
                "the sandbox should hold the task {} time(s)",
                u8::from(case.recorded)
            ),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // Without faults, a full apply retries exactly the rejected tasks, under their own names,
    // and leaves every task in doubt alone.
    sandbox.set_faults(&[]);
    let retried: Vec<_> = cases
        .iter()
        .enumerate()
        .filter(|(_, case)| matches!(case.expect, Rejected(_)))
        .map(|(i, _)| line(&format!("fault-{i}"), &format!("task-{i}"), 2))
        .collect();
    let mut retried_sorted = retried.clone();
    retried_sorted.sort();
    let rerun = ws.apply(&sandbox, &["campaigns"]);
    expect_held(&rerun);
    assert_eq!(
        lines_of(&rerun, "created"),
        retried_sorted,
        "{}",
        rerun.describe()
    );
    assert_eq!(rerun.tasks().len(), retried.len(), "{}", rerun.describe());

    let tasks = sandbox.tasks();
    for (i, case) in cases.iter().enumerate() {
        let task = format!("task-{i}");
        let accepted = tasks
            .iter()
            .filter(|t| t["body"]["taskName"] == task.as_str())
            .count();
        let expected = match case.expect {
            InDoubt => usize::from(case.recorded),
            Created | Rejected(_) => 1,
        };
        assert_eq!(
            accepted, expected,
            "{task} (fault {}) accepted {accepted} times",
            case.actions
        );
    }
    assert_no_order_id_twice(&tasks, |name| name.to_owned());

    let in_doubt = cases.iter().filter(|c| c.expect == InDoubt).count() as u64;
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(summary_of(&plan, "create"), 0, "{plan:#}");
    assert_eq!(summary_of(&plan, "inDoubt"), in_doubt, "{plan:#}");
    for (_, change) in changes(&plan, "in-doubt") {
        assert!(change["attemptId"].is_i64(), "{change:#}");
    }
    let requests = sandbox.requests().len();
    let last = ws.apply(&sandbox, &["campaigns"]);
    expect_held(&last);
    assert!(last.tasks().is_empty(), "{}", last.describe());
    assert_eq!(
        sandbox.requests().len(),
        requests,
        "nothing in doubt is re-sent"
    );
}

// ------------------------------------------------------------------------------------------------
// Crashes and concurrency
// ------------------------------------------------------------------------------------------------

const KILL_TASKS: u32 = 24;
const KILL_NUMBERS_PER_TASK: u32 = 2;
const MIN_KILLS: usize = 50;
const MAX_KILLS_PER_BATCH: usize = 4;

fn kill_campaign(batch: usize) -> String {
    let values: Vec<String> = (0..KILL_TASKS).map(|t| t.to_string()).collect();
    campaign_yaml(
        &format!("kill-{batch}"),
        "{{ campaign }}-t{{ t }}",
        &format!(
            "matrix:\n  t: [{}]\nnumbers:\n  - csv: \"data/t{{{{ t }}}}.csv\"\n    \
             other: \"{{{{ row.id }}}}\"\n",
            values.join(", ")
        ),
    )
}

/// `kill-3-t12` → `kill-3`.
fn kill_campaign_of(task_name: &str) -> String {
    task_name
        .rsplit_once("-t")
        .map(|(campaign, _)| campaign.to_owned())
        .unwrap_or_else(|| panic!("unexpected task name {task_name:?}"))
}

#[test]
fn sigkill_at_random_points_never_sends_an_order_id_twice_nor_loses_a_task() {
    sigkill_at_random_points(&Workspace::new());
}

/// Kills applies at random points until enough kills landed, completes the work, and checks
/// that no orderID was accepted twice and no task was lost; run against each state backend.
pub fn sigkill_at_random_points(ws: &Workspace) {
    let seed = seed("CAMPAIGNCTL_KILL_SEED");
    eprintln!("kill test seed {seed} (replay with CAMPAIGNCTL_KILL_SEED={seed})");
    let mut rng = Rng::new(seed);

    for t in 0..KILL_TASKS {
        let numbers: Vec<u32> = (0..KILL_NUMBERS_PER_TASK)
            .map(|k| t * KILL_NUMBERS_PER_TASK + k)
            .collect();
        ws.write(&format!("campaigns/data/t{t}.csv"), &csv_of(&numbers));
    }
    // Every answer 20 ms late: requests spend time in flight, where a kill leaves them in doubt.
    let sandbox = SandboxProcess::start(ws.root(), &["*=delay:20"]);

    let mut kills = 0;
    let mut batch = 0;
    let mut runs = 0;
    let mut longest = Duration::ZERO;
    while kills < MIN_KILLS {
        batch += 1;
        ws.write(
            &format!("campaigns/kill-{batch}.campaign.yaml"),
            &kill_campaign(batch),
        );
        let mut kills_in_batch = 0;
        loop {
            runs += 1;
            let out = ws.path(&format!("run-{runs}.out"));
            let err = ws.path(&format!("run-{runs}.err"));
            let requests_before = sandbox.requests().len();
            let mut command = ws.apply_command(
                sandbox.url(),
                &["campaigns", "--auto-approve", "--parallelism", "4"],
            );
            command
                .stdout(std::fs::File::create(&out).expect("log"))
                .stderr(std::fs::File::create(&err).expect("log"));
            let started = Instant::now();
            let mut child = command.spawn().expect("apply starts");

            // Half the kills at a uniformly random instant of a run (startup, planning,
            // recording, sending, exiting), half just after the k-th request of this run
            // reached the sandbox, while requests are surely in flight.
            let kill_at = if kills_in_batch >= MAX_KILLS_PER_BATCH || longest.is_zero() {
                None
            } else if rng.below(2) == 0 {
                let window = longest.as_millis() as u64 * 5 / 4 + 1;
                Some(started + Duration::from_millis(rng.below(window)))
            } else {
                let k = 1 + rng.below(u64::from(KILL_TASKS) / 2) as usize;
                let extra = Duration::from_millis(rng.below(30));
                let deadline = started + PATIENCE;
                let mut reached = None;
                while Instant::now() < deadline {
                    if child.try_wait().expect("try_wait").is_some() {
                        break;
                    }
                    if sandbox.requests().len() >= requests_before + k {
                        reached = Some(Instant::now() + extra);
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                Some(reached.unwrap_or(started))
            };
            let status = match kill_at {
                Some(at) => match wait_until(&mut child, at) {
                    Some(status) => status,
                    None => {
                        child.kill().expect("SIGKILL");
                        child.wait().expect("reaped")
                    }
                },
                None => wait_until(&mut child, started + PATIENCE).unwrap_or_else(|| {
                    let _ = child.kill();
                    panic!("apply run {runs} did not end in time")
                }),
            };
            if status.signal() == Some(9) {
                kills += 1;
                kills_in_batch += 1;
                continue;
            }
            let stderr = std::fs::read_to_string(&err).unwrap_or_default();
            assert!(
                status.success() || (status.code() == Some(1) && only_held(&stderr)),
                "apply run {runs} (batch {batch}, seed {seed}) ended with {status}\n\
                 --- stdout ---\n{}\n--- stderr ---\n{stderr}",
                std::fs::read_to_string(&out).unwrap_or_default(),
            );
            longest = longest.max(started.elapsed());
            break;
        }
    }

    // A last, undisturbed apply has nothing left to send.
    let requests = sandbox.requests().len();
    let last = ws.apply(&sandbox, &["campaigns", "--parallelism", "4"]);
    if ws
        .state_rows()
        .attempts
        .iter()
        .any(|a| a.status == "in-doubt")
    {
        expect_held(&last);
    } else {
        last.expect_code(0);
    }
    assert!(last.tasks().is_empty(), "{}", last.describe());
    assert_eq!(sandbox.requests().len(), requests);

    let tasks = sandbox.tasks();
    let rows = ws.state_rows();
    let context = format!("seed {seed}, {kills} kills, {batch} batches, {runs} runs");

    // 1. No orderID, and no number, went out twice in a campaign.
    assert_no_order_id_twice(&tasks, kill_campaign_of);
    assert_no_number_twice(&tasks, kill_campaign_of);

    // 2. Every task the sandbox accepted is in state, as created or in doubt, with exactly the
    //    numbers it carried.
    for task in &tasks {
        let name = task["body"]["taskName"].as_str().expect("taskName");
        let campaign = kill_campaign_of(name);
        let attempt = rows.live(&campaign, name);
        assert!(
            attempt.status == "created" || attempt.status == "in-doubt",
            "{campaign}/{name} was accepted by the sandbox but state holds it as {} ({context})",
            attempt.status
        );
        let mut order_ids: Vec<&str> = task["body"]["callList"]
            .as_array()
            .expect("callList")
            .iter()
            .map(|item| item["orderID"].as_str().expect("orderID"))
            .collect();
        order_ids.sort_unstable();
        let mut in_state: Vec<&str> = rows
            .numbers
            .iter()
            .filter(|n| n.attempt_id == attempt.id)
            .map(|n| n.order_id.as_str())
            .collect();
        in_state.sort_unstable();
        assert_eq!(order_ids, in_state, "{campaign}/{name} ({context})");
        if attempt.status == "created" {
            assert_eq!(
                attempt.req_id.as_deref(),
                task["reqId"].as_str(),
                "{context}"
            );
        }
    }

    // 3. No created task is lost: each is in the sandbox, once.
    let accepted = bodies_by_task_name(&tasks);
    for attempt in &rows.attempts {
        assert!(
            attempt.status == "created" || attempt.status == "in-doubt",
            "{attempt:?} after the last apply ({context})"
        );
        if attempt.status == "created" {
            assert!(
                accepted.contains_key(&attempt.task_name),
                "{attempt:?} is created in state but the sandbox never accepted it ({context})"
            );
        }
    }

    // 4. Nothing was sent without an intent recorded first, and every number is accounted for.
    assert!(
        sandbox.requests().len() <= rows.attempts.len(),
        "{} requests for {} attempts ({context})",
        sandbox.requests().len(),
        rows.attempts.len()
    );
    for b in 1..=batch {
        let campaign = format!("kill-{b}");
        let numbers = rows
            .numbers
            .iter()
            .filter(|n| n.campaign == campaign)
            .count();
        assert_eq!(
            numbers,
            (KILL_TASKS * KILL_NUMBERS_PER_TASK) as usize,
            "every number of {campaign} is sent or in doubt ({context})"
        );
    }
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(summary_of(&plan, "create"), 0, "{plan:#}");

    let in_doubt: Vec<_> = rows
        .attempts
        .iter()
        .filter(|a| a.status == "in-doubt")
        .collect();
    let in_doubt_accepted = in_doubt
        .iter()
        .filter(|a| accepted.contains_key(&a.task_name))
        .count();
    eprintln!(
        "{context}: {} tasks accepted, {} in doubt ({in_doubt_accepted} of them accepted by the \
         sandbox)",
        tasks.len(),
        in_doubt.len()
    );
    assert_eq!(
        summary_of(&plan, "inDoubt"),
        in_doubt.len() as u64,
        "{plan:#}"
    );
    // The test is only worth something if kills landed while requests were in flight.
    assert!(
        in_doubt_accepted > 0,
        "no kill left an accepted task in doubt ({context})"
    );
}

#[test]
fn a_second_apply_at_once_is_refused_naming_the_holder() {
    let ws = Workspace::new();
    for part in ["a", "b", "c"] {
        let base = match part {
            "a" => 400,
            "b" => 410,
            _ => 420,
        };
        ws.write(
            &format!("campaigns/data/{part}.csv"),
            &csv_of(&[base, base + 1]),
        );
    }
    ws.write(
        "campaigns/busy.campaign.yaml",
        &matrix_campaign("busy", &["a", "b", "c"], ""),
    );
    let sandbox = SandboxProcess::start(ws.root(), &["*=delay:3000"]);

    let mut command = ws.apply_command(sandbox.url(), &["campaigns", "--auto-approve"]);
    command
        .stdout(std::fs::File::create(ws.path("first.out")).expect("log"))
        .stderr(std::fs::File::create(ws.path("first.err")).expect("log"));
    let mut first = command.spawn().expect("apply starts");
    let pid = first.id();
    // The first apply holds the lock once its first request is out.
    wait_for("the first apply's first request", || {
        !sandbox.requests().is_empty() || first.try_wait().expect("try_wait").is_some()
    });

    let second = ws.apply(&sandbox, &["campaigns"]);
    second.expect_code(1);
    assert!(
        second.stderr.contains("lock") && second.stderr.contains(&pid.to_string()),
        "the refusal should name the holder (pid {pid})\n{}",
        second.describe()
    );
    assert!(second.tasks().is_empty(), "{}", second.describe());
    // Nor can a person resolve a task that is still being sent.
    let resolve = ws.run(&["state", "resolve", "busy/busy-a", "--not-created"]);
    resolve.expect_code(1);
    assert!(
        resolve.stderr.contains(&pid.to_string()),
        "{}",
        resolve.describe()
    );

    let status = wait_until(&mut first, Instant::now() + PATIENCE).expect("first apply ends");
    assert!(
        status.success(),
        "first apply: {status}\n{}\n{}",
        ws.read("first.out"),
        ws.read("first.err")
    );
    let tasks = sandbox.tasks();
    assert_eq!(bodies_by_task_name(&tasks).len(), 3);
    assert_eq!(sandbox.requests().len(), 3, "only the first apply sent");
    assert_no_order_id_twice(&tasks, |_| "busy".to_owned());
    // The lock is released: a third apply runs, with nothing to send.
    let third = ws.apply(&sandbox, &["campaigns"]);
    third.expect_code(0);
    assert_eq!(sandbox.requests().len(), 3);
}

// ------------------------------------------------------------------------------------------------
// Saved plans
// ------------------------------------------------------------------------------------------------

fn two_campaigns(ws: &Workspace) {
    ws.write("campaigns/data/a.csv", &csv_of(&[500, 501, 502]));
    ws.write("campaigns/data/b.csv", &csv_of(&[503]));
    ws.write(
        "campaigns/reviewed.campaign.yaml",
        &matrix_campaign("reviewed", &["a", "b"], ""),
    );
    ws.write(
        "campaigns/other.campaign.yaml",
        &inline_campaign("other", "other-task", &[510, 511]),
    );
}

#[test]
fn a_saved_plan_is_sent_exactly_as_reviewed_and_only_once() {
    let ws = Workspace::new();
    two_campaigns(&ws);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    ws.run(&["plan", "campaigns", "--out", "reviewed.plan"])
        .expect_code(0);
    let text = ws.read("reviewed.plan");
    assert!(!text.contains(SECRET));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(ws.path("reviewed.plan"))
            .expect("plan file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the plan file holds numbers: owner only");
    }
    let saved: Value = serde_json::from_str(&text).expect("plan file is JSON");
    let saved_bodies: BTreeMap<String, String> = saved["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_str(request["body"].as_str().expect("body string"))
                .expect("body JSON");
            (
                body["taskName"].as_str().expect("taskName").to_owned(),
                serde_json::to_string(&body).expect("JSON"),
            )
        })
        .collect();
    assert_eq!(saved_bodies.len(), 3, "{text}");
    assert!(sandbox.requests().is_empty());

    // A plan file needs no approval flag: it is the reviewed artifact.
    let applied = run(ws.apply_command(sandbox.url(), &["reviewed.plan"]));
    applied.expect_code(0);
    assert_eq!(applied.summary().created, 3, "{}", applied.describe());
    let sent: BTreeMap<String, String> = sandbox
        .tasks()
        .iter()
        .map(|task| {
            (
                task["body"]["taskName"].as_str().expect("name").to_owned(),
                serde_json::to_string(&task["body"]).expect("JSON"),
            )
        })
        .collect();
    assert_eq!(sent, saved_bodies, "what was sent is what was saved");
    assert_eq!(sandbox.requests().len(), 3);

    // The same plan again is stale: the state moved on.
    let replay = run(ws.apply_command(sandbox.url(), &["reviewed.plan"]));
    replay.expect_code(1);
    assert!(replay.all().contains("stale"), "{}", replay.describe());
    assert_eq!(sandbox.requests().len(), 3, "a replayed plan sends nothing");
}

#[test]
fn a_stale_saved_plan_is_refused() {
    a_stale_saved_plan_is_refused_on(&Workspace::new());
}

/// A saved plan is refused once an input or the state changed; run against each backend.
pub fn a_stale_saved_plan_is_refused_on(ws: &Workspace) {
    two_campaigns(ws);
    let sandbox = SandboxProcess::start(ws.root(), &[]);

    // An input changed after the plan was made.
    ws.run(&["plan", "campaigns", "--out", "p.json"])
        .expect_code(0);
    ws.append("campaigns/data/a.csv", &csv_row(504));
    let refused = run(ws.apply_command(sandbox.url(), &["p.json"]));
    refused.expect_code(1);
    assert!(refused.all().contains("stale"), "{}", refused.describe());
    assert!(sandbox.requests().is_empty(), "a stale plan sends nothing");
    assert!(ws.state_rows().attempts.is_empty());

    // The state changed after the plan was made (another campaign was applied).
    ws.run(&[
        "plan",
        "campaigns/reviewed.campaign.yaml",
        "--out",
        "p.json",
    ])
    .expect_code(0);
    ws.apply(&sandbox, &["campaigns/other.campaign.yaml"])
        .expect_code(0);
    assert_eq!(sandbox.requests().len(), 1);
    let refused = run(ws.apply_command(sandbox.url(), &["p.json"]));
    refused.expect_code(1);
    assert!(refused.all().contains("stale"), "{}", refused.describe());
    assert_eq!(sandbox.requests().len(), 1, "a stale plan sends nothing");

    // A fresh plan goes through.
    ws.run(&["plan", "campaigns", "--out", "p.json"])
        .expect_code(0);
    run(ws.apply_command(sandbox.url(), &["p.json"])).expect_code(0);
    let tasks = sandbox.tasks();
    assert_eq!(bodies_by_task_name(&tasks).len(), 3);
    assert_eq!(
        phones_of(&bodies_by_task_name(&tasks)["reviewed-a"]).len(),
        4
    );
}

/// A change to a request body inside a saved plan file.
type BodyEdit = fn(&mut Value);

#[test]
fn a_tampered_saved_plan_is_refused() {
    let ws = Workspace::new();
    two_campaigns(&ws);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    ws.run(&["plan", "campaigns", "--out", "p.json"])
        .expect_code(0);
    let original = ws.read("p.json");

    // Each edit keeps the file well-formed and its summary consistent with the body.
    let edits: [(&str, BodyEdit); 3] = [
        ("a number swapped", |body| {
            body["callList"][0]["userPhone"] = Value::from(uk_digits(999));
        }),
        ("the agent group changed", |body| {
            body["agentGroupNo"] = Value::from("NX00000000000001");
        }),
        ("an orderID changed", |body| {
            body["callList"][0]["orderID"] = Value::from("0123456789ABCDEF0123456789ABCDEF");
        }),
    ];
    for (what, edit) in edits {
        let mut plan: Value = serde_json::from_str(&original).expect("JSON");
        let request = &mut plan["requests"][0];
        let mut body: Value =
            serde_json::from_str(request["body"].as_str().expect("body")).expect("body JSON");
        edit(&mut body);
        request["body"] = Value::from(serde_json::to_string(&body).expect("JSON"));
        ws.write(
            "p.json",
            &serde_json::to_string_pretty(&plan).expect("JSON"),
        );
        let refused = run(ws.apply_command(sandbox.url(), &["p.json"]));
        refused.expect_code(1);
        assert!(
            refused.all().contains("modified"),
            "{what}: {}",
            refused.describe()
        );
        assert!(sandbox.requests().is_empty(), "{what}: nothing may be sent");
    }
    assert!(ws.state_rows().attempts.is_empty());

    // The untouched plan still applies.
    ws.write("p.json", &original);
    run(ws.apply_command(sandbox.url(), &["p.json"])).expect_code(0);
    assert_eq!(sandbox.tasks().len(), 3);
}

// ------------------------------------------------------------------------------------------------
// Errors a user can cause
// ------------------------------------------------------------------------------------------------

#[test]
fn state_of_a_newer_format_is_refused_and_left_untouched() {
    let ws = Workspace::new();
    two_campaigns(&ws);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    ws.run(&["plan", "campaigns"]).expect_code(0);
    {
        let conn = rusqlite::Connection::open(ws.state()).expect("state opens");
        let changed = conn
            .execute("UPDATE meta SET value = '99' WHERE key = 'format'", [])
            .expect("update");
        assert_eq!(changed, 1, "meta has a format row");
    }
    let before = std::fs::read(ws.state()).expect("state bytes");

    let attempts: [(&str, Run); 4] = [
        ("plan", ws.run(&["plan", "campaigns"])),
        ("apply", ws.apply(&sandbox, &["campaigns"])),
        ("state list", ws.run(&["state", "list"])),
        (
            "state resolve",
            ws.run(&["state", "resolve", "other/other-task", "--created"]),
        ),
    ];
    for (what, run) in attempts {
        run.expect_code(1);
        assert!(
            run.stderr.contains("newer") && run.stderr.contains("state.db"),
            "{what}: the message should say the state is from a newer campaignctl\n{}",
            run.describe()
        );
        assert!(
            !run.stderr.contains("panicked"),
            "{what}\n{}",
            run.describe()
        );
    }
    assert!(sandbox.requests().is_empty());
    assert_eq!(
        std::fs::read(ws.state()).expect("state bytes"),
        before,
        "the state file must be left untouched"
    );
}

#[test]
fn missing_credentials_are_named_and_nothing_is_sent() {
    let ws = Workspace::new();
    two_campaigns(&ws);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    let args = [
        "apply",
        "campaigns",
        "--auto-approve",
        "--rate",
        "0",
        "--endpoint",
        sandbox.url(),
    ];

    let none = run(ws.command(&args));
    none.expect_code(1);
    for var in ["NXCC_ACCESS_KEY", "NXCC_ACCESS_SECRET"] {
        assert!(none.stderr.contains(var), "{var}\n{}", none.describe());
    }

    let mut key_only = ws.command(&args);
    key_only.env("NXCC_ACCESS_KEY", KEY);
    let key_only = run(key_only);
    key_only.expect_code(1);
    assert!(
        key_only.stderr.contains("NXCC_ACCESS_SECRET"),
        "{}",
        key_only.describe()
    );

    let mut empty_secret = ws.command(&args);
    empty_secret
        .env("NXCC_ACCESS_KEY", KEY)
        .env("NXCC_ACCESS_SECRET", "");
    let empty_secret = run(empty_secret);
    empty_secret.expect_code(1);
    assert!(
        empty_secret.stderr.contains("NXCC_ACCESS_SECRET"),
        "{}",
        empty_secret.describe()
    );

    assert!(sandbox.requests().is_empty());
    assert!(!ws.state().exists() || ws.state_rows().attempts.is_empty());
}

#[test]
fn an_unreachable_endpoint_is_not_sent_and_its_numbers_stay_plannable() {
    let ws = Workspace::new();
    ws.write(
        "campaigns/nowhere.campaign.yaml",
        &inline_campaign("nowhere", "nowhere-task", &[600, 601, 602]),
    );
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut command = ws.apply_command(&endpoint, &["campaigns", "--auto-approve"]);
    command.args(["--request-timeout", "5"]);
    let failed = run(command);
    failed.expect_code(1);
    let lines = failed.tasks();
    assert_eq!(lines.len(), 1, "{}", failed.describe());
    assert_eq!(lines[0].kind, "rejected", "{}", failed.describe());
    assert!(lines[0].line.contains("not sent"), "{}", failed.describe());
    assert_eq!(
        failed.summary(),
        ApplySummary {
            rejected: 1,
            ..ApplySummary::default()
        }
    );
    let rows = ws.state_rows();
    assert_eq!(rows.named("nowhere", "nowhere-task")[0].status, "rejected");
    assert!(
        rows.numbers.is_empty(),
        "a request never sent frees its numbers"
    );

    let plan = ws.plan_json(&["campaigns"]);
    let creates = changes(&plan, "create");
    assert_eq!(creates.len(), 1, "{plan:#}");
    assert_eq!(creates[0].0, "nowhere-task", "{plan:#}");
    assert_eq!(creates[0].1["numberCount"], 3, "{plan:#}");

    let sandbox = SandboxProcess::start(ws.root(), &[]);
    ws.apply(&sandbox, &["campaigns"]).expect_code(0);
    let bodies = bodies_by_task_name(&sandbox.tasks());
    assert_eq!(
        phones_of(&bodies["nowhere-task"]),
        digits_of(&[600, 601, 602])
    );
}

#[test]
fn provider_rejections_show_code_and_message_per_task() {
    let ws = Workspace::new();
    two_campaigns(&ws);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    let mut command = ws.apply_command(sandbox.url(), &["campaigns", "--auto-approve"]);
    command.env("NXCC_ACCESS_SECRET", "not-the-secret");
    let rejected = run(command);
    rejected.expect_code(1);
    let lines = rejected.tasks();
    assert_eq!(lines.len(), 3, "{}", rejected.describe());
    for line in &lines {
        assert_eq!(line.kind, "rejected", "{}", rejected.describe());
        let message = line
            .line
            .split_once("code 1003: ")
            .map(|(_, message)| message)
            .unwrap_or_else(|| panic!("no code in {:?}", line.line));
        assert!(
            message.contains("invalid signature"),
            "the provider's message should be shown: {:?}",
            line.line
        );
    }
    assert_eq!(rejected.summary().rejected, 3);
    assert!(sandbox.tasks().is_empty());

    let show = ws.run(&["state", "show", "reviewed/reviewed-a"]);
    show.expect_code(0);
    assert!(show.stdout.contains("1003"), "{}", show.describe());
    assert!(show.stdout.contains("rejected"), "{}", show.describe());

    // The rejected tasks are retried under their own names once the secret is right.
    let applied = ws.apply(&sandbox, &["campaigns"]);
    applied.expect_code(0);
    assert_eq!(
        lines_of(&applied, "created"),
        vec![
            line("other", "other-task", 2),
            line("reviewed", "reviewed-a", 3),
            line("reviewed", "reviewed-b", 1),
        ],
        "{}",
        applied.describe()
    );
    assert_eq!(bodies_by_task_name(&sandbox.tasks()).len(), 3);
}

#[test]
fn state_resolve_decides_tasks_in_doubt() {
    state_resolve_decides(&Workspace::new());
}

/// Tasks in doubt block their numbers until resolved, each way; run against each backend.
pub fn state_resolve_decides(ws: &Workspace) {
    ws.write("campaigns/data/a.csv", &csv_of(&[700, 701]));
    ws.write("campaigns/data/b.csv", &csv_of(&[702, 703]));
    ws.write(
        "campaigns/doubt.campaign.yaml",
        &matrix_campaign("doubt", &["a", "b"], ""),
    );
    let sandbox = SandboxProcess::start(ws.root(), &["*=code:88"]);
    let failed = ws.apply(&sandbox, &["campaigns"]);
    failed.expect_code(1);
    assert_eq!(
        lines_of(&failed, "in-doubt"),
        vec![line("doubt", "doubt-a", 2), line("doubt", "doubt-b", 2)],
        "{}",
        failed.describe()
    );
    assert_eq!(failed.summary().in_doubt, 2);
    let list = ws.run(&["state", "list"]);
    list.expect_code(0);
    assert_eq!(
        list.stdout
            .lines()
            .filter(|l| l.contains("in-doubt"))
            .count(),
        2,
        "{}",
        list.describe()
    );

    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(summary_of(&plan, "inDoubt"), 2, "{plan:#}");
    assert_eq!(summary_of(&plan, "create"), 0, "{plan:#}");
    sandbox.set_faults(&[]);
    let requests = sandbox.requests().len();
    let blocked = ws.apply(&sandbox, &["campaigns"]);
    expect_held(&blocked);
    assert!(blocked.tasks().is_empty(), "{}", blocked.describe());
    assert_eq!(
        sandbox.requests().len(),
        requests,
        "in doubt blocks its numbers"
    );

    ws.run(&["state", "resolve", "doubt/doubt-a", "--created"])
        .expect_code(0);
    ws.run(&["state", "resolve", "doubt/doubt-b", "--not-created"])
        .expect_code(0);
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(summary_of(&plan, "inDoubt"), 0, "{plan:#}");
    let creates = changes(&plan, "create");
    assert_eq!(creates.len(), 1, "{plan:#}");
    assert_eq!(
        creates[0].0, "doubt-b",
        "retried under its own name: {plan:#}"
    );
    assert_eq!(creates[0].1["numberCount"], 2, "{plan:#}");
    assert_eq!(changes(&plan, "no-op")[0].0, "doubt-a", "{plan:#}");

    let applied = ws.apply(&sandbox, &["campaigns"]);
    applied.expect_code(0);
    assert_eq!(
        lines_of(&applied, "created"),
        vec![line("doubt", "doubt-b", 2)],
        "{}",
        applied.describe()
    );
    let bodies = bodies_by_task_name(&sandbox.tasks());
    assert_eq!(bodies.keys().collect::<Vec<_>>(), ["doubt-b"]);
    assert_eq!(phones_of(&bodies["doubt-b"]), digits_of(&[702, 703]));
    let rows = ws.state_rows();
    let a = rows.live("doubt", "doubt-a");
    assert_eq!(a.status, "created");
    assert_eq!(rows.phones_of(a.id), digits_of(&[700, 701]), "kept as sent");
    assert_eq!(rows.live("doubt", "doubt-b").status, "created");

    // Only tasks in doubt can be resolved, and a decision is required.
    for args in [
        &["state", "resolve", "doubt/doubt-a", "--not-created"][..],
        &["state", "resolve", "doubt/doubt-b"][..],
        &["state", "resolve", "doubt/no-such-task", "--created"][..],
        &[
            "state",
            "resolve",
            "doubt/doubt-b",
            "--created",
            "--not-created",
        ][..],
    ] {
        let refused = ws.run(args);
        refused.expect_code(1);
    }
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(summary_of(&plan, "create"), 0, "{plan:#}");
}

#[test]
fn apply_without_a_terminal_needs_auto_approve() {
    let ws = Workspace::new();
    two_campaigns(&ws);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    let refused = run(ws.apply_command(sandbox.url(), &["campaigns"]));
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("--auto-approve"),
        "{}",
        refused.describe()
    );
    assert!(refused.tasks().is_empty());
    assert!(sandbox.requests().is_empty());
    assert!(!ws.state().exists() || ws.state_rows().attempts.is_empty());
}

#[test]
fn apply_sandbox_needs_no_credentials_and_keeps_its_own_state() {
    let ws = Workspace::new();
    two_campaigns(&ws);

    // Default state path: `.campaignctl/state.db`, so the sandbox's is `.campaignctl/sandbox.db`.
    let tried = run({
        let mut command = campaignctl(ws.root());
        command.args([
            "apply",
            "--sandbox",
            "--auto-approve",
            "--rate",
            "0",
            "campaigns",
        ]);
        command
    });
    tried.expect_code(0);
    assert_eq!(tried.summary().created, 3, "{}", tried.describe());
    let own = StateRows::read(&ws.path(".campaignctl/sandbox.db"));
    assert_eq!(own.attempts.len(), 3);
    assert!(own.attempts.iter().all(|a| a.status == "created"));
    let real = ws.path(".campaignctl/state.db");
    assert!(
        !real.exists() || StateRows::read(&real).attempts.is_empty(),
        "trying the tool must not mark real work as done"
    );

    // A global --state before the subcommand: sandbox.db goes beside it.
    let custom = run({
        let mut command = campaignctl(ws.root());
        command.args([
            "--state",
            "custom/real.db",
            "apply",
            "--sandbox",
            "--auto-approve",
            "--rate",
            "0",
            "campaigns",
        ]);
        command
    });
    custom.expect_code(0);
    assert_eq!(custom.summary().created, 3, "{}", custom.describe());
    assert_eq!(
        StateRows::read(&ws.path("custom/sandbox.db"))
            .attempts
            .len(),
        3
    );
    let real = ws.path("custom/real.db");
    assert!(!real.exists() || StateRows::read(&real).attempts.is_empty());
    let plan = run({
        let mut command = campaignctl(ws.root());
        command.args(["--state", "custom/real.db", "plan", "--json", "campaigns"]);
        command
    });
    plan.expect_code(0);
    assert_eq!(summary_of(&plan.json(), "create"), 3, "{}", plan.describe());

    // The sandbox state remembers what was sent to the sandbox.
    let again = run({
        let mut command = campaignctl(ws.root());
        command.args([
            "apply",
            "--sandbox",
            "--auto-approve",
            "--rate",
            "0",
            "campaigns",
        ]);
        command
    });
    again.expect_code(0);
    assert!(again.tasks().is_empty(), "{}", again.describe());
}

#[test]
fn apply_sandbox_ignores_the_production_endpoint_in_the_environment() {
    // An operator's shell (or CI) exports the production gateway; trying the tool with
    // `--sandbox` must still go to the in-process sandbox, and nowhere else.
    let ws = Workspace::new();
    two_campaigns(&ws);
    let production = SandboxProcess::start(ws.root(), &[]);
    let tried = run({
        let mut command = campaignctl(ws.root());
        command
            .args([
                "apply",
                "--sandbox",
                "--auto-approve",
                "--rate",
                "0",
                "campaigns",
            ])
            .env("NXCC_ENDPOINT", production.url())
            .env("NXCC_ACCESS_KEY", KEY)
            .env("NXCC_ACCESS_SECRET", SECRET);
        command
    });
    tried.expect_code(0);
    assert_eq!(tried.summary().created, 3, "{}", tried.describe());
    assert!(
        production.requests().is_empty(),
        "--sandbox must never send to NXCC_ENDPOINT"
    );
    assert_eq!(
        StateRows::read(&ws.path(".campaignctl/sandbox.db"))
            .attempts
            .len(),
        3
    );
}

/// Campaign `name` with one task per part, each dialing two numbers counted up from `first`.
fn write_two_number_tasks(ws: &Workspace, name: &str, parts: &[&str], first: u32) {
    for (i, part) in (0u32..).zip(parts) {
        ws.write(
            &format!("campaigns/data/{part}.csv"),
            &csv_of(&[first + 2 * i, first + 1 + 2 * i]),
        );
    }
    ws.write(
        &format!("campaigns/{name}.campaign.yaml"),
        &matrix_campaign(name, parts, ""),
    );
}

#[test]
fn ctrl_c_lets_requests_in_flight_finish_and_the_rest_go_next_time() {
    let ws = Workspace::new();
    let parts = ["a", "b", "c", "d", "e", "f"];
    write_two_number_tasks(&ws, "stop", &parts, 800);
    let sandbox = SandboxProcess::start(ws.root(), &["*=delay:1500"]);

    let mut command = ws.apply_command(
        sandbox.url(),
        &["campaigns", "--auto-approve", "--parallelism", "2"],
    );
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().expect("apply starts");
    wait_for("the first request", || !sandbox.requests().is_empty());
    let signalled = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(signalled.success());
    let output = child.wait_with_output().expect("apply ends");
    let interrupted = Run {
        args: vec!["apply (interrupted)".to_owned()],
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    interrupted.expect_code(1);
    let summary = interrupted.summary();
    assert!(summary.created >= 1, "{}", interrupted.describe());
    assert_eq!(
        summary.created + summary.not_sent,
        parts.len(),
        "{}",
        interrupted.describe()
    );
    assert_eq!(
        summary.in_doubt + summary.rejected,
        0,
        "{}",
        interrupted.describe()
    );
    assert_eq!(
        lines_of(&interrupted, "created").len(),
        summary.created,
        "{}",
        interrupted.describe()
    );
    assert_eq!(
        lines_of(&interrupted, "not-sent").len(),
        summary.not_sent,
        "every task stopped by Ctrl-C gets its `not sent` line\n{}",
        interrupted.describe()
    );
    let rows = ws.state_rows();
    assert_eq!(rows.attempts.len(), summary.created, "{rows:#?}");
    assert!(
        rows.attempts.iter().all(|a| a.status == "created"),
        "{rows:#?}"
    );

    sandbox.set_faults(&[]);
    let rest = ws.apply(&sandbox, &["campaigns"]);
    rest.expect_code(0);
    assert_eq!(
        rest.summary().created,
        summary.not_sent,
        "{}",
        rest.describe()
    );
    let tasks = sandbox.tasks();
    assert_eq!(bodies_by_task_name(&tasks).len(), parts.len());
    assert_no_order_id_twice(&tasks, |_| "stop".to_owned());
}

#[test]
fn a_plan_saved_after_a_crash_applies() {
    // The plan made after a crash already holds the interrupted tasks in doubt; that apply then
    // records them as in doubt changes nothing the plan depends on, so it must not be stale.
    let ws = Workspace::new();
    let parts = ["a", "b", "c", "d"];
    write_two_number_tasks(&ws, "crash", &parts, 900);
    let sandbox = SandboxProcess::start(ws.root(), &["*=delay:3000"]);
    let mut command = ws.apply_command(
        sandbox.url(),
        &["campaigns", "--auto-approve", "--parallelism", "2"],
    );
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut crashed = command.spawn().expect("apply starts");
    wait_for("the first request", || !sandbox.requests().is_empty());
    crashed.kill().expect("SIGKILL");
    crashed.wait().expect("reaped");
    sandbox.set_faults(&[]);

    ws.run(&["plan", "campaigns", "--out", "after-crash.plan"])
        .expect_code(0);
    let plan = ws.plan_json(&["campaigns"]);
    let in_doubt = summary_of(&plan, "inDoubt");
    assert!(in_doubt >= 1, "{plan:#}");
    let to_create = summary_of(&plan, "create");
    assert_eq!(in_doubt + to_create, parts.len() as u64, "{plan:#}");

    let applied = run(ws.apply_command(sandbox.url(), &["after-crash.plan"]));
    expect_held(&applied);
    assert_eq!(
        applied.summary().created as u64,
        to_create,
        "{}",
        applied.describe()
    );
    let tasks = sandbox.tasks();
    bodies_by_task_name(&tasks);
    assert_no_order_id_twice(&tasks, |_| "crash".to_owned());
}
