//! The PostgreSQL backend through the real binary, against the throwaway test server: what it
//! answers to bad input, its lock, a connection lost in the middle of an apply, and workspaces
//! that share one database without touching each other.

#![cfg(unix)]

use std::time::{Duration, Instant};

use crate::state_server::{self, PASSWORD, USER};
use crate::state_shared::postgres_workspace;
use crate::support::*;

fn write_campaign(ws: &Workspace, name: &str, first: u32) {
    for (part, base) in [("a", first), ("b", first + 2), ("c", first + 4)] {
        ws.write(
            &format!("campaigns/data/{name}-{part}.csv"),
            &csv_of(&[base, base + 1]),
        );
    }
    ws.write(
        &format!("campaigns/{name}.campaign.yaml"),
        &campaign_yaml(
            name,
            "{{ campaign }}-{{ part }}",
            "matrix:\n  part: [a, b, c]\nnumbers:\n  - csv: \"data/{{ campaign }}-{{ part }}.csv\"\n",
        ),
    );
}

/// `campaignctl ARGS --state URL` in `ws`, with credentials.
fn run_at(ws: &Workspace, url: &str, args: &[&str]) -> Run {
    let mut command = campaignctl(ws.root());
    command
        .args(args)
        .args(["--state", url])
        .env("NXCC_ACCESS_KEY", KEY)
        .env("NXCC_ACCESS_SECRET", SECRET);
    run(command)
}

#[test]
fn bad_connections_are_clear_errors_that_never_show_the_password() {
    let Some(server) = state_server::server() else {
        return;
    };
    let ws = Workspace::new();
    write_campaign(&ws, "bad", 850);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let cases = [
        (
            format!("postgres://{USER}:{PASSWORD}@127.0.0.1:{closed_port}/db"),
            "cannot connect",
        ),
        (
            format!(
                "postgres://{USER}:Wrong-{PASSWORD}@127.0.0.1:{}/postgres",
                server.port
            ),
            "password authentication failed",
        ),
        (server.url("no_such_database"), "does not exist"),
    ];
    for (url, needle) in cases {
        for args in [
            vec!["plan", "campaigns"],
            vec![
                "apply",
                "campaigns",
                "--auto-approve",
                "--endpoint",
                sandbox.url(),
            ],
            vec!["state", "list"],
        ] {
            let run = run_at(&ws, &url, &args);
            run.expect_code(1);
            assert!(run.stderr.contains(needle), "{url}: {}", run.describe());
            assert!(
                !run.all().contains(PASSWORD),
                "the password leaked\n{}",
                run.describe()
            );
            assert!(!run.stderr.contains("panicked"), "{}", run.describe());
        }
    }
    assert!(sandbox.requests().is_empty());
}

#[test]
fn a_database_of_a_newer_format_is_refused_and_left_untouched() {
    let Some(ws) = postgres_workspace("default") else {
        return;
    };
    write_campaign(&ws, "newer", 860);
    ws.run(&["plan", "campaigns"]).expect_code(0);
    let url = ws.state_arg().to_string_lossy().into_owned();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    admin
        .batch_execute("UPDATE campaignctl.format SET version = 99")
        .expect("newer format");
    let count = |admin: &mut postgres::Client| -> i64 {
        admin
            .query_one(
                "SELECT (SELECT count(*) FROM campaignctl.workspaces) \
                 + (SELECT count(*) FROM campaignctl.journal)",
                &[],
            )
            .expect("count")
            .get(0)
    };
    let before = count(&mut admin);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    for run in [
        ws.run(&["plan", "campaigns"]),
        ws.apply(&sandbox, &["campaigns"]),
        ws.run(&["state", "list"]),
    ] {
        run.expect_code(1);
        assert!(
            run.stderr.contains("newer campaignctl"),
            "{}",
            run.describe()
        );
    }
    assert_eq!(count(&mut admin), before, "nothing was written");
    assert!(sandbox.requests().is_empty());
}

/// The check value of formats that stored orderIDs, written out again as an independent
/// oracle: the sum of 64-bit FNV-1a over each orderID's text, a 0xff byte and the number's 8
/// little-endian bytes.
fn check_value_with_order_ids(numbers: &[&NumberRow]) -> i64 {
    let sum = numbers.iter().fold(0u64, |sum, n| {
        let phone: i64 = n.phone.parse().expect("digits");
        let bytes = n.order_id.bytes().chain([0xff]).chain(phone.to_le_bytes());
        let hash = bytes.fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        sum.wrapping_add(hash)
    });
    i64::from_ne_bytes(sum.to_ne_bytes())
}

/// Rewrites the database of `ws` as format 2 wrote it (each number with its orderID's 16
/// bytes, check values over them) or format 1 (the orderID as hex text, the key on it, the
/// constraints named by PostgreSQL). `tamper` runs after.
fn downgrade(ws: &Workspace, format: i32, tamper: &str) -> postgres::Client {
    let rows = ws.state_rows();
    assert!(!rows.numbers.is_empty());
    let url = ws.state_arg().to_string_lossy().into_owned();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    admin
        .batch_execute(&format!(
            "ALTER TABLE campaignctl.numbers ADD COLUMN order_id {};
             UPDATE campaignctl.format SET version = {format}",
            if format == 1 { "TEXT" } else { "BYTEA" }
        ))
        .expect("downgrade");
    let order_id = if format == 1 {
        "$1"
    } else {
        "decode($1, 'hex')"
    };
    for n in &rows.numbers {
        admin
            .execute(
                &format!(
                    "UPDATE campaignctl.numbers SET order_id = {order_id} \
                     WHERE campaign = $2 AND phone = $3::text::bigint"
                ),
                &[&n.order_id, &n.campaign, &n.phone],
            )
            .expect("orderID");
    }
    if format == 1 {
        admin
            .batch_execute(
                "ALTER TABLE campaignctl.numbers DROP CONSTRAINT numbers_key;
                 ALTER TABLE campaignctl.numbers DROP CONSTRAINT numbers_attempt;
                 ALTER TABLE campaignctl.numbers ADD PRIMARY KEY (workspace, campaign, order_id);
                 ALTER TABLE campaignctl.numbers ADD FOREIGN KEY (workspace, attempt_id)
                     REFERENCES campaignctl.attempts (workspace, id);",
            )
            .expect("format 1 keys");
    }
    for attempt in rows.attempts.iter().filter(|a| a.status != "rejected") {
        let numbers: Vec<&NumberRow> = rows
            .numbers
            .iter()
            .filter(|n| n.attempt_id == attempt.id)
            .collect();
        admin
            .execute(
                "UPDATE campaignctl.attempts SET digest = $1 WHERE id = $2",
                &[&check_value_with_order_ids(&numbers), &attempt.id],
            )
            .expect("check value");
    }
    admin
        .batch_execute(&format!(
            "ALTER TABLE campaignctl.numbers ALTER COLUMN order_id SET NOT NULL; {tamper}"
        ))
        .expect("tamper");
    admin
}

fn format_of(admin: &mut postgres::Client) -> i32 {
    admin
        .query_one("SELECT version FROM campaignctl.format", &[])
        .expect("format")
        .get(0)
}

#[test]
fn databases_of_formats_1_and_2_are_upgraded_and_keep_blocking_their_numbers() {
    for format in [1, 2] {
        upgraded_keeps_blocking(format);
    }
}

fn upgraded_keeps_blocking(format: i32) {
    let Some(ws) = postgres_workspace("default") else {
        return;
    };
    write_campaign(&ws, "older", 870);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    ws.apply(&sandbox, &["campaigns"]).expect_code(0);
    let sent = sandbox.requests().len();
    let before = ws.state_rows();
    let mut admin = downgrade(&ws, format, "");
    let run = ws.apply(&sandbox, &["campaigns"]);
    run.expect_code(0);
    assert!(run.stdout.contains("Nothing to send"), "{}", run.describe());
    assert_eq!(sandbox.requests().len(), sent, "nothing sent again");
    assert_eq!(format_of(&mut admin), 3);
    let has_order_ids: bool = admin
        .query_one(
            "SELECT count(*) > 0 FROM information_schema.columns \
             WHERE table_schema = 'campaignctl' AND table_name = 'numbers' \
             AND column_name = 'order_id'",
            &[],
        )
        .expect("columns")
        .get(0);
    assert!(!has_order_ids);
    let after = ws.state_rows();
    assert_eq!(after.attempts, before.attempts);
    let numbers = |rows: &StateRows| {
        let mut numbers = rows.numbers.clone();
        numbers.sort_by(|a, b| (&a.campaign, &a.phone).cmp(&(&b.campaign, &b.phone)));
        numbers
    };
    assert_eq!(numbers(&after), numbers(&before));
}

#[test]
fn a_database_of_format_2_whose_rows_were_changed_is_refused_untouched() {
    for tamper in [
        "UPDATE campaignctl.numbers SET order_id = decode(repeat('00', 16), 'hex') \
         WHERE phone = (SELECT min(phone) FROM campaignctl.numbers)",
        "DELETE FROM campaignctl.numbers WHERE phone = (SELECT min(phone) FROM campaignctl.numbers)",
    ] {
        let Some(ws) = postgres_workspace("default") else {
            return;
        };
        write_campaign(&ws, "changed", 880);
        let sandbox = SandboxProcess::start(ws.root(), &[]);
        ws.apply(&sandbox, &["campaigns"]).expect_code(0);
        let sent = sandbox.requests().len();
        let mut admin = downgrade(&ws, 2, tamper);
        let run = ws.apply(&sandbox, &["campaigns"]);
        run.expect_code(1);
        assert!(
            run.stderr.contains("cannot upgrade") && run.stderr.contains("from format 2"),
            "{tamper}\n{}",
            run.describe()
        );
        assert_eq!(sandbox.requests().len(), sent, "{tamper}: nothing sent");
        assert_eq!(format_of(&mut admin), 2, "{tamper}: left untouched");
    }
}

#[test]
fn the_lock_names_its_holder_and_state_lock_shows_it() {
    let Some(ws) = postgres_workspace("locked") else {
        return;
    };
    write_campaign(&ws, "busy", 870);
    let sandbox = SandboxProcess::start(ws.root(), &["*=delay:3000"]);
    let mut first = ws
        .apply_command(
            sandbox.url(),
            &["campaigns", "--auto-approve", "--parallelism", "1"],
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("apply starts");
    let pid = first.id().to_string();
    wait_for("the first request", || !sandbox.requests().is_empty());

    let lock = ws.run(&["state", "lock"]);
    lock.expect_code(0);
    assert!(
        lock.stdout.contains(&format!("process {pid}")),
        "{}",
        lock.describe()
    );
    let second = ws.apply(&sandbox, &["campaigns"]);
    second.expect_code(1);
    assert!(
        second.stderr.contains("locked by") && second.stderr.contains(&format!("process {pid}")),
        "{}",
        second.describe()
    );
    let resolve = ws.run(&["state", "resolve", "busy/busy-a", "--not-created"]);
    resolve.expect_code(1);
    assert!(resolve.stderr.contains(&pid), "{}", resolve.describe());

    // Another workspace of the same database is not held by that lock.
    let other = Workspace::on_postgres(&ws.state_arg().to_string_lossy(), "elsewhere");
    write_campaign(&other, "busy", 870);
    other.run(&["plan", "campaigns"]).expect_code(0);
    assert!(other.run(&["state", "lock"]).stdout.contains("not locked"));
    // Nor is the workspace of the same name in another database of the server.
    let elsewhere = postgres_workspace("locked").expect("server");
    write_campaign(&elsewhere, "busy", 870);
    elsewhere.run(&["plan", "campaigns"]).expect_code(0);
    let lock = elsewhere.run(&["state", "lock"]);
    assert!(lock.stdout.contains("not locked"), "{}", lock.describe());

    let status = wait_until(&mut first, Instant::now() + PATIENCE).expect("first apply ends");
    assert!(status.success());
    assert!(ws.run(&["state", "lock"]).stdout.contains("not locked"));
    assert_eq!(sandbox.requests().len(), 3, "only the first apply sent");
}

#[test]
fn workspaces_in_one_database_keep_separate_states() {
    let Some(one) = postgres_workspace("one") else {
        return;
    };
    let two = Workspace::on_postgres(&one.state_arg().to_string_lossy(), "two");
    write_campaign(&one, "same", 880);
    write_campaign(&two, "same", 880);
    let sandbox = SandboxProcess::start(one.root(), &[]);
    one.apply(&sandbox, &["campaigns"]).expect_code(0);
    // The same campaign is new to the other workspace (a staging copy, say).
    let plan = two.plan_json(&["campaigns"]);
    assert_eq!(plan["summary"]["create"], 3, "{plan:#}");
    assert_eq!(one.plan_json(&["campaigns"])["summary"]["create"], 0);
    assert!(two.run(&["state", "list"]).stdout.contains("no tasks"));
    assert_eq!(one.state_rows().attempts.len(), 3);
    assert!(two.state_rows().attempts.is_empty());
}

#[test]
fn the_password_may_come_from_pgpassword_or_pgpass() {
    let Some(server) = state_server::server() else {
        return;
    };
    let ws = Workspace::new();
    write_campaign(&ws, "auth", 890);
    let url = format!("postgres://{USER}@127.0.0.1:{}/postgres", server.port);
    let mut command = campaignctl(ws.root());
    command
        .args(["plan", "campaigns", "--state", &url, "--workspace", "env"])
        .env("PGPASSWORD", PASSWORD);
    run(command).expect_code(0);

    // Everything from libpq's environment, as `pg_virtualenv` or a CI service sets it.
    let mut command = campaignctl(ws.root());
    command
        .args([
            "plan",
            "campaigns",
            "--state",
            "postgres://",
            "--workspace",
            "bare",
        ])
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", server.port.to_string())
        .env("PGUSER", USER)
        .env("PGDATABASE", "postgres")
        .env("PGPASSWORD", PASSWORD);
    run(command).expect_code(0);

    let pgpass = ws.path("pgpass");
    std::fs::write(&pgpass, format!("127.0.0.1:*:postgres:{USER}:{PASSWORD}\n")).expect("pgpass");
    std::fs::set_permissions(&pgpass, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    let mut command = campaignctl(ws.root());
    command
        .args(["plan", "campaigns", "--state", &url, "--workspace", "file"])
        .env("PGPASSFILE", &pgpass);
    run(command).expect_code(0);
}

#[test]
fn a_connection_lost_mid_apply_leaves_the_request_in_doubt_and_never_resends_it() {
    let Some(ws) = postgres_workspace("cut") else {
        return;
    };
    write_campaign(&ws, "cut", 895);
    let sandbox = SandboxProcess::start(ws.root(), &["1=delay:1500"]);
    let url = ws.state_arg().to_string_lossy().into_owned();
    let mut child = ws
        .apply_command(
            sandbox.url(),
            &["campaigns", "--auto-approve", "--parallelism", "1"],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("apply starts");
    wait_for("the first request", || !sandbox.requests().is_empty());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let cut: i64 = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name LIKE 'campaignctl process%' AND pid <> pg_backend_pid() \
             AND datname = current_database()",
            &[],
        )
        .expect("terminate")
        .get(0);
    assert_eq!(cut, 1, "the apply's connection was cut");
    let deadline = Instant::now() + PATIENCE;
    let status = wait_until(&mut child, deadline).expect("apply ends");
    let output = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("was lost"), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(sandbox.requests().len(), 1, "nothing more was sent");
    std::thread::sleep(Duration::from_millis(100));

    // The next apply holds the task in flight in doubt and sends the rest, once.
    let next = ws.apply(&sandbox, &["campaigns", "--parallelism", "1"]);
    // Exit 1: the task in flight is held in doubt until a person decides.
    next.expect_code(1);
    assert!(next.stderr.contains("interrupted"), "{}", next.describe());
    assert_eq!(next.summary().created, 2, "{}", next.describe());
    assert_eq!(sandbox.requests().len(), 3);
    let tasks = sandbox.tasks();
    assert_no_number_twice(&tasks, |_| "cut".to_owned());
    let rows = ws.state_rows();
    assert_eq!(rows.live("cut", "cut-a").status, "in-doubt");
}

#[test]
fn tls_is_used_when_the_server_offers_it() {
    let Some(server) = state_server::server() else {
        return;
    };
    let ws = Workspace::new();
    write_campaign(&ws, "tls", 900);
    let url = format!("{}?sslmode=require", server.fresh_database());
    let run = run_at(&ws, &url, &["plan", "campaigns"]);
    if server.tls {
        // Encrypted, against a self-signed certificate, as libpq's `require` does.
        run.expect_code(0);
    } else {
        run.expect_code(1);
        assert!(run.stderr.contains("cannot connect"), "{}", run.describe());
    }
}

#[test]
fn a_role_that_may_only_read_can_plan_but_never_apply() {
    let Some(ws) = postgres_workspace("default") else {
        return;
    };
    write_campaign(&ws, "readonly", 910);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    ws.apply(&sandbox, &["campaigns/readonly.campaign.yaml"])
        .expect_code(0);
    let url = ws.state_arg().to_string_lossy().into_owned();
    let database = url.rsplit('/').next().expect("database").to_owned();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    admin
        .batch_execute(&format!(
            "CREATE ROLE reader_{database} LOGIN PASSWORD 'Reader-Password-7';
             GRANT USAGE ON SCHEMA campaignctl TO reader_{database};
             GRANT SELECT ON ALL TABLES IN SCHEMA campaignctl TO reader_{database};"
        ))
        .expect("a read-only role");
    let server = state_server::server().expect("server");
    let reader = format!(
        "postgres://reader_{database}:Reader-Password-7@127.0.0.1:{}/{database}",
        server.port
    );
    write_campaign(&ws, "readonly", 910);
    ws.write("campaigns/data/readonly-a.csv", &csv_of(&[910, 911, 916]));
    let plan = run_at(
        &ws,
        &reader,
        &["plan", "--json", "campaigns", "--out", "ro.plan"],
    );
    plan.expect_code(0);
    assert_eq!(plan.json()["summary"]["numbers"], 1, "{}", plan.describe());
    let apply = run_at(
        &ws,
        &reader,
        &["apply", "ro.plan", "--endpoint", sandbox.url()],
    );
    apply.expect_code(1);
    assert!(
        apply.stderr.contains("permission denied"),
        "{}",
        apply.describe()
    );
    assert_eq!(sandbox.requests().len(), 3, "nothing more was sent");
}
