//! The promises that must hold whichever backend keeps state: the crash test against
//! PostgreSQL, concurrent applies from two working copies against one state (a PostgreSQL
//! workspace; one SQLite file through a symlink and through a hard link), and `state migrate`
//! between the backends.

#![cfg(unix)]

use std::thread;

use crate::state_server;
use crate::support::*;

/// A working copy on a new database of the test server, or `None` when it cannot run here.
pub fn postgres_workspace(workspace: &str) -> Option<Workspace> {
    let server = state_server::server()?;
    Some(Workspace::on_postgres(&server.fresh_database(), workspace))
}

#[test]
fn sigkill_at_random_points_never_sends_twice_with_postgres_state() {
    let Some(ws) = postgres_workspace("crash") else {
        return;
    };
    crate::apply::sigkill_at_random_points(&ws);
}

/// `race-{round}`, three tasks of two numbers each, all new numbers.
fn write_race_round(copies: &[&Workspace], round: u32) {
    let name = format!("race-{round}");
    for ws in copies {
        for part in 0..3 {
            let base = round * 6 + part * 2;
            ws.write(
                &format!("campaigns/data/{name}-{part}.csv"),
                &csv_of(&[base, base + 1]),
            );
        }
        ws.write(
            &format!("campaigns/{name}.campaign.yaml"),
            &campaign_yaml(
                &name,
                "{{ campaign }}-{{ part }}",
                "matrix:\n  part: [0, 1, 2]\nnumbers:\n  - csv: \"data/{{ campaign }}-{{ part }}.csv\"\n",
            ),
        );
    }
}

/// `race-3-1` → `race-3`.
fn race_campaign_of(task_name: &str) -> String {
    task_name
        .rsplit_once('-')
        .map(|(campaign, _)| campaign.to_owned())
        .unwrap_or_default()
}

/// Starts an apply in each working copy at once, `rounds` times, each round with new numbers,
/// and checks that no number was ever accepted twice. Returns every run, for the caller's own
/// checks.
fn race(copies: [&Workspace; 2], rounds: u32) -> Vec<Run> {
    let sandbox = SandboxProcess::start(copies[0].root(), &["*=delay:10"]);
    let mut runs = Vec::new();
    for round in 0..rounds {
        write_race_round(&copies, round);
        let commands =
            copies.map(|ws| ws.apply_command(sandbox.url(), &["campaigns", "--auto-approve"]));
        let handles = commands.map(|command| thread::spawn(move || run(command)));
        for handle in handles {
            let run = handle.join().expect("apply thread");
            assert!(
                !run.stderr.contains("panicked"),
                "round {round}\n{}",
                run.describe()
            );
            runs.push(run);
        }
    }
    let tasks = sandbox.tasks();
    assert_no_number_twice(&tasks, race_campaign_of);
    assert_eq!(
        sandbox.requests().len(),
        tasks.len(),
        "every request was accepted: nothing was retried"
    );
    runs
}

#[test]
fn two_runners_on_one_postgres_workspace_never_send_a_number_twice() {
    let Some(first) = postgres_workspace("shared") else {
        return;
    };
    let second = Workspace::on_postgres(&first.state_arg().to_string_lossy(), "shared");
    const ROUNDS: u32 = 12;
    let runs = race([&first, &second], ROUNDS);
    let mut refused = 0;
    for run in &runs {
        match run.code {
            Some(0) => {}
            Some(1) => {
                assert!(
                    run.stderr.contains("locked by campaignctl process"),
                    "a refused apply names the holder\n{}",
                    run.describe()
                );
                refused += 1;
            }
            other => panic!("apply exited {other:?}\n{}", run.describe()),
        }
    }
    // Every number of every round went out exactly once, between the two runners.
    let rows = first.state_rows();
    assert_eq!(rows.numbers.len(), (ROUNDS * 6) as usize);
    assert!(
        rows.attempts.iter().all(|a| a.status == "created"),
        "{rows:#?}"
    );
    eprintln!(
        "{refused} of {} applies were refused by the lock",
        runs.len()
    );
}

#[test]
fn two_applies_through_a_symlink_to_one_sqlite_file_share_its_lock() {
    let first = Workspace::new();
    let second = Workspace::new();
    // The state exists before the second copy links to it.
    write_race_round(&[&first], 0);
    first.run(&["plan", "campaigns"]).expect_code(0);
    std::fs::create_dir_all(second.state().parent().expect("folder")).expect("mkdir");
    std::os::unix::fs::symlink(first.state(), second.state()).expect("symlink");
    const ROUNDS: u32 = 8;
    let runs = race([&first, &second], ROUNDS);
    for run in &runs {
        assert!(
            run.code == Some(0) || run.stderr.contains("locked by process"),
            "{}",
            run.describe()
        );
    }
    assert_eq!(first.state_rows().numbers.len(), (ROUNDS * 6) as usize);
}

#[test]
fn a_hard_linked_sqlite_state_is_refused_under_both_names() {
    let first = Workspace::new();
    let second = Workspace::new();
    write_race_round(&[&first], 0);
    first.run(&["plan", "campaigns"]).expect_code(0);
    std::fs::create_dir_all(second.state().parent().expect("folder")).expect("mkdir");
    std::fs::hard_link(first.state(), second.state()).expect("hard link");
    let runs = race([&first, &second], 2);
    for run in &runs {
        run.expect_code(1);
        assert!(run.stderr.contains("hard links"), "{}", run.describe());
    }
    assert!(StateRows::read(&first.state()).attempts.is_empty());
}

/// Applies two campaigns, one task of which ends in doubt, and returns the plan then.
fn state_worth_migrating(ws: &Workspace) -> serde_json::Value {
    ws.write("campaigns/data/a.csv", &csv_of(&[700, 701]));
    ws.write("campaigns/data/b.csv", &csv_of(&[702]));
    ws.write(
        "campaigns/moving.campaign.yaml",
        &campaign_yaml(
            "moving",
            "moving-{{ part }}",
            "matrix:\n  part: [a, b]\nnumbers:\n  - csv: \"data/{{ part }}.csv\"\n",
        ),
    );
    let sandbox = SandboxProcess::start(ws.root(), &["2=code:99"]);
    ws.apply(&sandbox, &["campaigns", "--parallelism", "1"])
        .expect_code(1);
    // A number added since: the plan holds a follow-up to create as well.
    ws.write("campaigns/data/a.csv", &csv_of(&[700, 701, 703]));
    ws.plan_json(&["campaigns"])
}

fn plan_at(ws: &Workspace, state: &std::ffi::OsStr, workspace: &str) -> serde_json::Value {
    let mut command = campaignctl(ws.root());
    command
        .args([
            "plan",
            "--json",
            "campaigns",
            "--workspace",
            workspace,
            "--state",
        ])
        .arg(state);
    run(command).expect_code(0).json()
}

fn migrate(ws: &Workspace, from: &std::ffi::OsStr, from_ws: &str, to: &str, to_ws: &str) -> Run {
    let mut command = campaignctl(ws.root());
    command
        .args([
            "state",
            "migrate",
            "--workspace",
            from_ws,
            "--to",
            to,
            "--to-workspace",
            to_ws,
        ])
        .arg("--state")
        .arg(from);
    run(command)
}

#[test]
fn state_migrate_round_trip_keeps_every_plan_identical() {
    let Some(server) = state_server::server() else {
        return;
    };
    let url = server.fresh_database();
    let ws = Workspace::new();
    let before = state_worth_migrating(&ws);
    assert_eq!(before["summary"]["inDoubt"], 1, "{before:#}");
    let bytes = std::fs::read(ws.state()).expect("state bytes");

    let there = migrate(&ws, ws.state().as_os_str(), "default", &url, "moved");
    there.expect_code(0);
    assert!(
        !there.all().contains(state_server::PASSWORD),
        "{}",
        there.describe()
    );
    assert_eq!(
        std::fs::read(ws.state()).expect("state bytes"),
        bytes,
        "source untouched"
    );
    assert_eq!(plan_at(&ws, url.as_ref(), "moved"), before);

    // A target that holds state is refused, and left as it was.
    let again = migrate(&ws, ws.state().as_os_str(), "default", &url, "moved");
    again.expect_code(1);
    assert!(
        again.stderr.contains("already holds tasks"),
        "{}",
        again.describe()
    );
    assert_eq!(plan_at(&ws, url.as_ref(), "moved"), before);

    let back = ws.path("back/state.db");
    migrate(
        &ws,
        url.as_ref(),
        "moved",
        &back.to_string_lossy(),
        "default",
    )
    .expect_code(0);
    assert_eq!(plan_at(&ws, back.as_os_str(), "default"), before);
    assert_eq!(
        StateRows::read(&back).numbers,
        StateRows::read_postgres(&url, "moved").numbers
    );
}

#[test]
fn state_resolve_decides_tasks_in_doubt_with_postgres_state() {
    let Some(ws) = postgres_workspace("doubt") else {
        return;
    };
    crate::apply::state_resolve_decides(&ws);
}

/// An orphan is shown, forgotten (hidden from plans) and its numbers stay sent.
fn forget_keeps_numbers_sent(ws: &Workspace) {
    ws.write(
        "campaigns/gone.campaign.yaml",
        &inline_campaign("gone", "gone-task", &[720, 721]),
    );
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    ws.apply(&sandbox, &["campaigns"]).expect_code(0);
    let show = ws.run(&["state", "show", "gone/gone-task"]);
    show.expect_code(0);
    assert!(
        show.stdout.contains("status:     created"),
        "{}",
        show.describe()
    );
    assert!(
        !show.stdout.contains(&uk_digits(720)),
        "masked\n{}",
        show.describe()
    );
    let shown = ws.run(&["state", "show", "gone/gone-task", "--show-numbers"]);
    assert!(
        shown.stdout.contains(&format!("+{}", uk_digits(720))),
        "{}",
        shown.describe()
    );

    // The task leaves the files: orphaned, then forgotten.
    ws.write(
        "campaigns/gone.campaign.yaml",
        &inline_campaign("gone", "other-task", &[722]),
    );
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(plan["summary"]["orphaned"], 1, "{plan:#}");
    ws.run(&["state", "forget", "gone/gone-task"])
        .expect_code(0);
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(plan["summary"]["orphaned"], 0, "{plan:#}");
    assert!(ws.run(&["state", "list"]).stdout.contains("forgotten"));

    // Its numbers stay sent, even in another task of the campaign.
    ws.write(
        "campaigns/gone.campaign.yaml",
        &inline_campaign("gone", "other-task", &[720, 721, 722]),
    );
    let plan = ws.plan_json(&["campaigns"]);
    assert_eq!(plan["summary"]["numbers"], 1, "{plan:#}");
}

#[test]
fn state_show_and_forget_with_sqlite_state() {
    forget_keeps_numbers_sent(&Workspace::new());
}

#[test]
fn state_show_and_forget_with_postgres_state() {
    let Some(ws) = postgres_workspace("forget") else {
        return;
    };
    forget_keeps_numbers_sent(&ws);
}

#[test]
fn a_stale_saved_plan_is_refused_with_postgres_state() {
    let Some(ws) = postgres_workspace("stale") else {
        return;
    };
    crate::apply::a_stale_saved_plan_is_refused_on(&ws);
}

#[test]
fn a_plan_saved_against_one_workspace_is_refused_by_another() {
    let Some(one) = postgres_workspace("one") else {
        return;
    };
    one.write(
        "campaigns/w.campaign.yaml",
        &inline_campaign("w", "w-task", &[730]),
    );
    one.run(&["plan", "campaigns", "--out", "w.plan"])
        .expect_code(0);
    let sandbox = SandboxProcess::start(one.root(), &[]);
    let two = Workspace::on_postgres(&one.state_arg().to_string_lossy(), "two");
    let mut command = two.apply_command(sandbox.url(), &["w.plan"]);
    command.current_dir(one.root());
    let refused = run(command);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("different state"),
        "{}",
        refused.describe()
    );
    assert!(sandbox.requests().is_empty());
}

#[test]
fn state_reconcile_settles_from_call_records_with_postgres_state() {
    let Some(ws) = postgres_workspace("reconcile") else {
        return;
    };
    ws.write(
        "campaigns/rec.campaign.yaml",
        &inline_campaign("rec", "rec-task", &[740, 741]),
    );
    // Accepted by the provider, but the answer is lost: in doubt.
    let sandbox = SandboxProcess::start(ws.root(), &["*=drop+record"]);
    ws.apply(&sandbox, &["campaigns"]).expect_code(1);
    assert_eq!(ws.state_rows().live("rec", "rec-task").status, "in-doubt");
    sandbox.set_faults(&[]);
    let reconcile = |args: &[&str]| {
        let mut full = vec!["state", "reconcile", "--format", "json"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--endpoint", sandbox.url(), "--rate", "0"]);
        run(ws.command_with_credentials(&full))
    };
    let settled = reconcile(&[]);
    settled.expect_code(0);
    assert_eq!(
        settled.json()["settled"][0]["taskName"],
        "rec-task",
        "{}",
        settled.describe()
    );
    let rows = ws.state_rows();
    let attempt = rows.live("rec", "rec-task");
    assert_eq!(attempt.status, "created");
    assert_eq!(
        rows.phones_of(attempt.id),
        digits_of(&[740, 741]),
        "still sent"
    );
    // Decided now: nothing is left to reconcile, and nothing more is sent.
    let again = reconcile(&["rec/rec-task"]);
    again.expect_code(1);
    assert!(
        again.stderr.contains("not in doubt"),
        "{}",
        again.describe()
    );
    assert_eq!(sandbox.requests().len(), 1);
}
