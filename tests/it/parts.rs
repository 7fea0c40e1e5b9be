//! Tasks larger than `maxCallListSize` go out as parts, each its own request and attempt: the
//! real binary against a real `campaignctl sandbox` (with `--max-call-list` for its HTTP 413),
//! a real state file. What is proven: parts are sent as planned and rendered, a refusal for
//! size frees only its part, a crash between parts holds only what was in flight, and re-plans
//! and follow-ups after parts never send a number twice.

#![cfg(unix)]

use std::collections::BTreeMap;

use crate::apply::assert_no_order_id_twice;
use crate::support::*;
use serde_json::Value;

/// One campaign, one task `big` dialing `numbers` from `data/big.csv`, at most `max` a request.
fn big_campaign(ws: &Workspace, numbers: &[u32], max: usize) {
    ws.write("campaigns/data/big.csv", &csv_of(numbers));
    ws.write(
        "campaigns/big.campaign.yaml",
        &campaign_yaml(
            "big",
            "big",
            &format!(
                "\x20 maxCallListSize: {max}\nnumbers:\n  - csv: data/big.csv\n    \
                 other: \"{{{{ row.id }}}}\"\n"
            ),
        ),
    );
}

/// Every number the campaign has is one campaign here.
fn one_campaign(_: &str) -> String {
    "big".to_owned()
}

/// Task name → sorted `userPhone`s of what the sandbox accepted.
fn accepted(sandbox: &SandboxProcess) -> BTreeMap<String, Vec<String>> {
    bodies_by_task_name(&sandbox.tasks())
        .into_iter()
        .map(|(name, body)| (name, phones_of(&body)))
        .collect()
}

/// Task name → status, of every attempt in state.
fn statuses(ws: &Workspace) -> BTreeMap<String, String> {
    ws.state_rows()
        .attempts
        .into_iter()
        .map(|a| (a.task_name, a.status))
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// (taskName, numberCount, part index, part count) of each create of a JSON plan.
fn creates(plan: &Value) -> Vec<(String, u64, u64, u64)> {
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["action"] == "create")
        .map(|c| {
            (
                c["taskName"].as_str().expect("taskName").to_owned(),
                c["numberCount"].as_u64().expect("numberCount"),
                c["part"]["index"].as_u64().unwrap_or(0),
                c["part"]["count"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[track_caller]
fn assert_nothing_to_send(ws: &Workspace) {
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(plan["summary"]["create"], 0, "{plan:#}");
}

#[test]
fn a_task_larger_than_the_limit_is_sent_as_the_parts_render_shows() {
    let ws = Workspace::new();
    big_campaign(&ws, &[1, 2, 3, 4, 5], 2);
    let sandbox = SandboxProcess::start(ws.root(), &[]);

    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(
        creates(&plan),
        [
            ("big (part 1/3)".to_owned(), 2, 1, 3),
            ("big (part 2/3)".to_owned(), 2, 2, 3),
            ("big (part 3/3)".to_owned(), 1, 3, 3),
        ],
        "{plan:#}"
    );
    let rendered = ws.run(&["render", "campaigns"]);
    rendered.expect_code(0);
    let rendered: Vec<Value> =
        serde_json::from_str(&rendered.stdout).expect("render prints a JSON array");

    let applied = ws.apply(&sandbox, &["campaigns", "--parallelism", "1"]);
    applied.expect_code(0);
    assert_eq!(applied.summary().created, 3, "{}", applied.describe());

    // The sandbox got exactly the bodies render showed, in the same order.
    let sent: Vec<Value> = sandbox.tasks().iter().map(|t| t["body"].clone()).collect();
    let shown: Vec<Value> = rendered.iter().map(|r| r["body"].clone()).collect();
    assert_eq!(sent, shown);
    assert_eq!(
        accepted(&sandbox),
        BTreeMap::from([
            ("big (part 1/3)".to_owned(), digits_of(&[1, 2])),
            ("big (part 2/3)".to_owned(), digits_of(&[3, 4])),
            ("big (part 3/3)".to_owned(), digits_of(&[5])),
        ])
    );
    // Each part is its own attempt.
    assert_eq!(
        statuses(&ws),
        owned(&[
            ("big (part 1/3)", "created"),
            ("big (part 2/3)", "created"),
            ("big (part 3/3)", "created"),
        ])
    );

    // A re-plan after parts is a no-op, and so is a re-apply.
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(plan["summary"]["noOp"], 1, "{plan:#}");
    assert_nothing_to_send(&ws);
    let again = ws.apply(&sandbox, &["campaigns"]);
    again.expect_code(0);
    assert_eq!(sandbox.requests().len(), 3, "{}", again.describe());
}

#[test]
fn a_413_on_one_part_frees_only_its_numbers_and_a_later_apply_sends_them_once() {
    let ws = Workspace::new();
    // Parts of 3 and 2; the sandbox refuses more than 2 a request.
    big_campaign(&ws, &[1, 2, 3, 4, 5], 3);
    let sandbox = SandboxProcess::start_with(ws.root(), &["--max-call-list", "2"]);

    let refused = ws.apply(&sandbox, &["campaigns", "--parallelism", "1"]);
    refused.expect_code(1);
    let summary = refused.summary();
    assert_eq!(
        (summary.created, summary.rejected, summary.in_doubt),
        (1, 1, 0),
        "{}",
        refused.describe()
    );
    let line = refused
        .tasks()
        .into_iter()
        .find(|l| l.kind == "rejected")
        .expect("a rejected line");
    assert_eq!(line.task, "big (part 1/2)", "{}", refused.describe());
    assert!(line.line.contains("HTTP 413"), "{}", line.line);
    assert_eq!(sandbox.requests()[0]["httpStatus"], 413);
    assert_eq!(
        statuses(&ws),
        owned(&[
            ("big (part 1/2)", "rejected"),
            ("big (part 2/2)", "created")
        ])
    );

    // Only the refused part's numbers are planned again; in requests the sandbox takes they go
    // out, once.
    let plan = ws.plan_json(&["campaigns", "--max-call-list-size", "2"]);
    assert_eq!(
        creates(&plan),
        [
            ("big #2 (part 1/2)".to_owned(), 2, 1, 2),
            ("big #2 (part 2/2)".to_owned(), 1, 2, 2),
        ],
        "{plan:#}"
    );
    let applied = ws.apply(
        &sandbox,
        &[
            "campaigns",
            "--parallelism",
            "1",
            "--max-call-list-size",
            "2",
        ],
    );
    applied.expect_code(0);
    assert_eq!(
        accepted(&sandbox),
        BTreeMap::from([
            ("big (part 2/2)".to_owned(), digits_of(&[4, 5])),
            ("big #2 (part 1/2)".to_owned(), digits_of(&[1, 2])),
            ("big #2 (part 2/2)".to_owned(), digits_of(&[3])),
        ])
    );
    assert_no_order_id_twice(&sandbox.tasks(), one_campaign);
    assert_nothing_to_send(&ws);
}

#[test]
fn a_crash_between_parts_holds_only_the_part_in_flight_and_plans_the_rest_again() {
    let ws = Workspace::new();
    big_campaign(&ws, &[1, 2, 3, 4, 5, 6, 7, 8], 2);
    // The second part is accepted, then answered late: the apply is killed while it waits.
    let sandbox = SandboxProcess::start(ws.root(), &["2=delay:30000"]);
    let mut child = ws
        .apply_command(
            sandbox.url(),
            &["campaigns", "--auto-approve", "--parallelism", "1"],
        )
        .spawn()
        .expect("apply starts");
    wait_for("the second part to reach the sandbox", || {
        sandbox.requests().len() >= 2
    });
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    // The next apply finds part 2 interrupted (in doubt), sends parts 3 and 4's numbers again
    // as a follow-up, and fails for the part in doubt.
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(plan["summary"]["inDoubt"], 1, "{plan:#}");
    assert_eq!(
        creates(&plan),
        [
            ("big #2 (part 1/2)".to_owned(), 2, 1, 2),
            ("big #2 (part 2/2)".to_owned(), 2, 2, 2),
        ],
        "{plan:#}"
    );
    let resumed = ws.apply(&sandbox, &["campaigns", "--parallelism", "1"]);
    resumed.expect_code(1);
    assert_eq!(
        statuses(&ws),
        owned(&[
            ("big (part 1/4)", "created"),
            ("big (part 2/4)", "in-doubt"),
            ("big #2 (part 1/2)", "created"),
            ("big #2 (part 2/2)", "created"),
        ])
    );
    assert_eq!(
        accepted(&sandbox),
        BTreeMap::from([
            ("big (part 1/4)".to_owned(), digits_of(&[1, 2])),
            ("big (part 2/4)".to_owned(), digits_of(&[3, 4])),
            ("big #2 (part 1/2)".to_owned(), digits_of(&[5, 6])),
            ("big #2 (part 2/2)".to_owned(), digits_of(&[7, 8])),
        ])
    );
    assert_no_order_id_twice(&sandbox.tasks(), one_campaign);
    assert_nothing_to_send(&ws);
}

#[test]
fn a_follow_up_after_parts_holds_only_new_numbers_and_is_parted_too() {
    let ws = Workspace::new();
    big_campaign(&ws, &[1, 2, 3, 4, 5], 2);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    ws.apply(&sandbox, &["campaigns"]).expect_code(0);

    ws.append(
        "campaigns/data/big.csv",
        &(6..=8).map(csv_row).collect::<String>(),
    );
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(
        creates(&plan),
        [
            ("big #2 (part 1/2)".to_owned(), 2, 1, 2),
            ("big #2 (part 2/2)".to_owned(), 1, 2, 2),
        ],
        "{plan:#}"
    );
    assert!(
        plan["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .all(|c| c["followUp"] == true && c["alreadySent"] == 5),
        "{plan:#}"
    );
    ws.apply(&sandbox, &["campaigns", "--parallelism", "1"])
        .expect_code(0);
    let accepted = accepted(&sandbox);
    assert_eq!(accepted["big #2 (part 1/2)"], digits_of(&[6, 7]));
    assert_eq!(accepted["big #2 (part 2/2)"], digits_of(&[8]));
    assert_eq!(accepted.len(), 5);
    assert_no_order_id_twice(&sandbox.tasks(), one_campaign);
    assert_nothing_to_send(&ws);
}

#[test]
fn a_saved_plan_of_parts_applies_as_saved_and_refuses_a_new_size() {
    let ws = Workspace::new();
    big_campaign(&ws, &[1, 2, 3], 2);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    ws.run(&["plan", "campaigns", "--out", "reviewed.plan"])
        .expect_code(0);

    let resized = ws.apply(&sandbox, &["reviewed.plan", "--max-call-list-size", "1"]);
    resized.expect_code(1);
    assert!(
        resized
            .stderr
            .contains("--max-call-list-size cannot change a saved plan"),
        "{}",
        resized.describe()
    );
    assert!(sandbox.requests().is_empty());

    ws.apply(&sandbox, &["reviewed.plan"]).expect_code(0);
    assert_eq!(
        accepted(&sandbox),
        BTreeMap::from([
            ("big (part 1/2)".to_owned(), digits_of(&[1, 2])),
            ("big (part 2/2)".to_owned(), digits_of(&[3])),
        ])
    );
}
