//! Each way a SQLite state file can be fooled, tried through the real binary: the tool refuses,
//! says why, and nothing is sent.

#![cfg(unix)]

use std::os::unix::process::ExitStatusExt;
use std::time::Instant;

use crate::support::*;

/// Three tasks of two numbers in campaign `traps`.
fn write_traps(ws: &Workspace) {
    for (part, base) in [("a", 800), ("b", 802), ("c", 804)] {
        ws.write(
            &format!("campaigns/data/{part}.csv"),
            &csv_of(&[base, base + 1]),
        );
    }
    ws.write(
        "campaigns/traps.campaign.yaml",
        &campaign_yaml(
            "traps",
            "traps-{{ part }}",
            "matrix:\n  part: [a, b, c]\nnumbers:\n  - csv: \"data/{{ part }}.csv\"\n",
        ),
    );
}

/// Plan and apply are both refused with a message containing `needle`, and nothing is sent.
#[track_caller]
fn assert_refused(ws: &Workspace, sandbox: &SandboxProcess, needle: &str) {
    let before = sandbox.requests().len();
    for run in [
        ws.run(&["plan", "campaigns"]),
        ws.apply(sandbox, &["campaigns"]),
    ] {
        run.expect_code(1);
        assert!(run.stderr.contains(needle), "{}", run.describe());
        assert!(!run.stderr.contains("panicked"), "{}", run.describe());
        assert!(run.tasks().is_empty(), "{}", run.describe());
    }
    assert_eq!(sandbox.requests().len(), before, "nothing was sent");
}

#[test]
fn an_empty_state_file_is_refused() {
    let ws = Workspace::new();
    write_traps(&ws);
    ws.write("state/state.db", "");
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    assert_refused(&ws, &sandbox, "empty file");
    assert_eq!(std::fs::metadata(ws.state()).expect("state").len(), 0);
}

#[test]
fn a_foreign_sqlite_file_is_refused_and_left_alone() {
    let ws = Workspace::new();
    write_traps(&ws);
    std::fs::create_dir_all(ws.path("state")).expect("mkdir");
    rusqlite::Connection::open(ws.state())
        .expect("create")
        .execute_batch("CREATE TABLE crm (phone TEXT); INSERT INTO crm VALUES ('x');")
        .expect("foreign tables");
    let before = std::fs::read(ws.state()).expect("bytes");
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    assert_refused(&ws, &sandbox, "not a campaignctl state");
    assert_eq!(std::fs::read(ws.state()).expect("bytes"), before);
}

/// Starts an apply whose answers are slow, and SIGKILLs it once its first request reached the
/// sandbox: its intents are in the WAL only.
fn kill_mid_apply(ws: &Workspace, sandbox: &SandboxProcess) {
    let mut command = ws.apply_command(
        sandbox.url(),
        &["campaigns", "--auto-approve", "--parallelism", "1"],
    );
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = command.spawn().expect("apply starts");
    wait_for("the first request", || !sandbox.requests().is_empty());
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert_eq!(status.signal(), Some(9));
}

#[test]
fn a_state_file_copied_without_its_wal_after_a_kill_is_refused() {
    let ws = Workspace::new();
    write_traps(&ws);
    let sandbox = SandboxProcess::start(ws.root(), &["*=delay:2000"]);
    kill_mid_apply(&ws, &sandbox);
    assert!(
        ws.path("state/state.db-wal").exists(),
        "the killed apply left its WAL"
    );

    // A CI cache step that saves "the state file" alone.
    let copy = Workspace::new();
    write_traps(&copy);
    std::fs::create_dir_all(copy.path("state")).expect("mkdir");
    std::fs::copy(ws.state(), copy.state()).expect("copy");
    assert_refused(&copy, &sandbox, "never finished");
    let run = copy.run(&["plan", "campaigns"]);
    assert!(
        run.stderr.contains("state.db-wal") && run.stderr.contains("Recover by"),
        "the message says what happened and how to recover\n{}",
        run.describe()
    );

    // The original, whole, finishes the work; the task in flight is in doubt, never resent.
    sandbox.set_faults(&[]);
    let requests = sandbox.requests().len();
    let rest = ws.apply(&sandbox, &["campaigns"]);
    // Exit 1: the interrupted task is held in doubt until a person decides.
    rest.expect_code(1);
    assert!(rest.stderr.contains("interrupted"), "{}", rest.describe());
    assert_eq!(rest.summary().created, 2, "{}", rest.describe());
    let tasks = sandbox.tasks();
    assert_no_number_twice(&tasks, |_| "traps".to_owned());
    assert_eq!(sandbox.requests().len(), requests + 2);
    // At rest, the main file alone holds everything: a copy of it now is a whole state.
    std::fs::copy(ws.state(), copy.state()).expect("copy");
    let plan = copy.plan_json(&["campaigns"]);
    assert_eq!(plan["summary"]["create"], 0, "{plan:#}");
    assert_eq!(plan["summary"]["inDoubt"], 1, "{plan:#}");
}

/// Flips bit `bit` of every occurrence of `needle` in the file at `path`.
fn flip_everywhere(path: &std::path::Path, needle: &[u8], bit: u8) -> usize {
    let mut bytes = std::fs::read(path).expect("read");
    let mut flipped = 0;
    let mut at = 0;
    while let Some(found) = bytes[at..].windows(needle.len()).position(|w| w == needle) {
        bytes[at + found] ^= 1 << bit;
        flipped += 1;
        at += found + needle.len();
    }
    std::fs::write(path, bytes).expect("write");
    flipped
}

/// A workspace whose three tasks were all sent, at rest.
fn applied_traps() -> Workspace {
    let ws = Workspace::new();
    write_traps(&ws);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    ws.apply(&sandbox, &["campaigns"]).expect_code(0);
    ws
}

#[test]
fn a_flipped_bit_in_a_stored_number_is_refused() {
    let ws = applied_traps();
    let rows = ws.state_rows();
    let phone: i64 = rows.numbers[0].phone.parse().expect("digits");
    // SQLite keeps an integer under 2^47 in 6 bytes, big-endian.
    let stored = &phone.to_be_bytes()[2..];
    let flipped = flip_everywhere(&ws.state(), stored, 0);
    assert!(flipped >= 1, "the number is in the main file at rest");
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    assert_refused(&ws, &sandbox, "damaged");
}

#[test]
fn random_bit_flips_never_make_a_number_ring_twice() {
    let seed = seed("CAMPAIGNCTL_FLIP_SEED");
    eprintln!("bit flip seed {seed} (replay with CAMPAIGNCTL_FLIP_SEED={seed})");
    let mut rng = Rng::new(seed);
    let good = applied_traps();
    let pristine = std::fs::read(good.state()).expect("state bytes");
    // Data lives in the non-zero bytes; flipping zeros in free space proves little.
    let data: Vec<usize> = (0..pristine.len()).filter(|&i| pristine[i] != 0).collect();
    let sandbox = SandboxProcess::start(good.root(), &[]);
    let (mut refused, mut unchanged) = (0, 0);
    let started = Instant::now();
    for trial in 0..40 {
        let mut bytes = pristine.clone();
        for _ in 0..1 + rng.below(4) {
            let at = data[rng.below(data.len() as u64) as usize];
            bytes[at] ^= 1 << rng.below(8);
        }
        std::fs::write(good.state(), &bytes).expect("write");
        let _ = std::fs::remove_file(good.path("state/state.db-wal"));
        let _ = std::fs::remove_file(good.path("state/state.db-shm"));
        let run = good.apply(&sandbox, &["campaigns"]);
        assert!(
            !run.stderr.contains("panicked"),
            "trial {trial}, seed {seed}\n{}",
            run.describe()
        );
        match run.code {
            Some(1) => refused += 1,
            Some(0) => unchanged += 1,
            other => panic!("trial {trial}: exit {other:?}\n{}", run.describe()),
        }
        assert!(
            sandbox.requests().is_empty(),
            "trial {trial} (seed {seed}) sent numbers that were already sent\n{}",
            run.describe()
        );
    }
    eprintln!(
        "bit flips: {refused} refused, {unchanged} harmless, in {:?}",
        started.elapsed()
    );
}

#[test]
fn a_state_of_format_1_is_upgraded_and_keeps_blocking_its_numbers() {
    let ws = applied_traps();
    let rows = ws.state_rows();
    // Rebuild the state as campaignctl 0.1 wrote it: numbers and orderIDs as text, no check
    // values, campaigns by name.
    let conn = rusqlite::Connection::open(ws.state()).expect("open");
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         PRAGMA application_id = 0;
         UPDATE meta SET value = '1' WHERE key = 'format';
         DROP TABLE numbers;
         DROP TABLE campaigns;
         CREATE TABLE numbers (campaign TEXT NOT NULL, order_id TEXT NOT NULL,
             attempt_id INTEGER NOT NULL REFERENCES attempts (id), phone TEXT NOT NULL,
             PRIMARY KEY (campaign, order_id)) WITHOUT ROWID;
         CREATE INDEX numbers_by_attempt ON numbers (attempt_id);
         ALTER TABLE attempts DROP COLUMN digest;",
    )
    .expect("downgrade");
    assert!(!rows.numbers.is_empty());
    for n in &rows.numbers {
        conn.execute(
            "INSERT INTO numbers VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![n.campaign, n.order_id, n.attempt_id, n.phone],
        )
        .expect("old row");
    }
    drop(conn);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    let run = ws.apply(&sandbox, &["campaigns"]);
    run.expect_code(0);
    assert!(run.stdout.contains("Nothing to send"), "{}", run.describe());
    assert!(sandbox.requests().is_empty());
    let conn = rusqlite::Connection::open(ws.state()).expect("open");
    let format: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |row| {
            row.get(0)
        })
        .expect("format");
    assert_eq!(format, "4");
}

#[test]
fn processes_creating_one_new_state_at_once_all_succeed() {
    let ws = Workspace::new();
    write_traps(&ws);
    for round in 0..10 {
        let _ = std::fs::remove_dir_all(ws.path("state"));
        let plans: Vec<_> = (0..3)
            .map(|_| {
                let command = ws.command(&["plan", "--json", "campaigns"]);
                std::thread::spawn(move || run(command))
            })
            .collect();
        for plan in plans {
            let plan = plan.join().expect("plan thread");
            plan.expect_code(0);
            assert_eq!(plan.json()["summary"]["create"], 3, "round {round}");
        }
        let names: Vec<_> = std::fs::read_dir(ws.path("state"))
            .expect("state folder")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert!(
            !names
                .iter()
                .any(|n| n.to_string_lossy().contains("new-state")),
            "no temporary file is left behind: {names:?}"
        );
    }
}

#[test]
fn state_lock_names_the_apply_holding_a_file_through_any_of_its_names() {
    let ws = Workspace::new();
    write_traps(&ws);
    let sandbox = SandboxProcess::start(ws.root(), &["*=delay:1500"]);
    let mut child = ws
        .apply_command(
            sandbox.url(),
            &["campaigns", "--auto-approve", "--parallelism", "1"],
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("apply starts");
    wait_for("the first request", || !sandbox.requests().is_empty());
    let link = ws.path("link.db");
    std::os::unix::fs::symlink(ws.state(), &link).expect("symlink");
    let mut command = campaignctl(ws.root());
    command.args(["state", "lock", "--state"]).arg(&link);
    let lock = run(command);
    lock.expect_code(0);
    assert!(
        lock.stdout
            .contains(&format!("locked by process {}", child.id())),
        "{}",
        lock.describe()
    );
    let status = wait_until(&mut child, Instant::now() + PATIENCE).expect("apply ends");
    assert!(status.success());
    let after = ws.run(&["state", "lock"]);
    assert!(after.stdout.contains("not locked"), "{}", after.describe());
}
