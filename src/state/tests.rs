//! The store's rules, against real SQLite files in temporary folders. The same rules against
//! PostgreSQL are proven by the integration tests (`tests/it/state_*.rs`), which need a server.

use std::path::{Path, PathBuf};

use super::lock::StateLock;
use super::*;

/// A body of campaign `c`.
fn body(name: &str, numbers: &[u32]) -> CreateAndCall {
    body_in("c", name, numbers)
}

fn body_in(campaign: &str, name: &str, numbers: &[u32]) -> CreateAndCall {
    CreateAndCall::sample_in(campaign, name, numbers)
}

fn sqlite(path: &Path) -> Location {
    Location::Sqlite(path.to_owned())
}

fn open(path: &Path) -> Result<Store, StateError> {
    Store::open(&sqlite(path))
}

fn rejected(code: i64) -> Recorded {
    Recorded {
        status: Status::Rejected,
        req_id: None,
        code: Some(code),
        message: None,
    }
}

#[test]
fn a_number_cannot_be_recorded_as_sent_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("s.db")).unwrap();
    let first = store.record_intent("c", "t", &body("t", &[1, 2])).unwrap();
    let err = store
        .record_intent("c", "u", &body("u", &[2, 3]))
        .unwrap_err();
    assert!(err.to_string().contains("refusing"), "{err}");
    // Nothing of the refused attempt was kept.
    assert_eq!(store.attempts().unwrap().len(), 1);
    // Another campaign may dial the same number.
    store
        .record_intent("d", "t", &body_in("d", "t", &[2]))
        .unwrap();
    // A rejection frees the numbers.
    store.record_outcome(first, &rejected(1003)).unwrap();
    store.record_intent("c", "t", &body("t", &[2, 3])).unwrap();
    let snapshot = store.snapshot(["c"]).unwrap();
    let sent = &snapshot.campaigns["c"];
    assert_eq!(
        sent.sent_numbers,
        [447_700_900_002, 447_700_900_003].into_iter().collect()
    );
    assert!(snapshot.identity.version >= 4);
}

#[test]
fn the_same_number_under_another_order_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("s.db")).unwrap();
    store.record_intent("c", "t", &body("t", &[7])).unwrap();
    // A forged plan, or an orderID edited in a file: same number, new id.
    let mut forged = body("u", &[7]);
    forged.call_list[0].order_id = body_in("other", "u", &[7]).call_list[0].order_id.clone();
    let err = store.record_intent("c", "u", &forged).unwrap_err();
    assert!(err.to_string().contains("refusing"), "{err}");
    // And a plan sees it as sent by its number alone.
    let snapshot = store.snapshot(["c"]).unwrap();
    assert!(snapshot.campaigns["c"].is_sent(&forged.call_list[0]));
    assert_eq!(store.attempts().unwrap().len(), 1);
}

#[test]
fn numbers_that_are_not_e164_digits_are_refused() {
    assert_eq!(phone_key("447700900123"), Some(447_700_900_123));
    for bad in [
        "",
        "0447700900123",
        "+447700900123",
        "4477009001234567",
        "44 77",
    ] {
        assert_eq!(phone_key(bad), None, "{bad:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("s.db")).unwrap();
    let mut bad = body("t", &[1]);
    bad.call_list[0].user_phone = "+447700900001".to_owned();
    assert!(store.record_intent("c", "t", &bad).is_err());
    assert!(store.attempts().unwrap().is_empty());
}

#[test]
fn interrupted_attempts_become_in_doubt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = open(&path).unwrap();
    store.record_intent("c", "t", &body("t", &[1])).unwrap();
    drop(store);
    let mut store = open(&path).unwrap();
    assert_eq!(store.settle_interrupted().unwrap(), 1);
    let attempt = store.find("c", "t").unwrap().unwrap();
    assert_eq!(attempt.status, Status::InDoubt);
    store.resolve(&attempt, false).unwrap();
    assert!(
        store.snapshot(["c"]).unwrap().campaigns["c"]
            .sent_numbers
            .is_empty()
    );
}

#[cfg(unix)]
#[test]
fn the_state_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/s.db");
    open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// Asserts that opening `path` is refused with a message containing `needle`, and that the
/// file's bytes did not change.
#[track_caller]
fn assert_refused(path: &Path, needle: &str) {
    let before = std::fs::read(path).unwrap();
    let err = open(path).unwrap_err().to_string();
    assert!(err.contains(needle), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(std::fs::read(path).unwrap(), before, "the file was changed");
}

#[test]
fn only_a_path_that_does_not_exist_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    assert_refused(&empty, "empty file");

    let text = dir.path().join("notes.db");
    std::fs::write(&text, b"not a database at all, but long enough").unwrap();
    assert_refused(&text, "not a SQLite database");

    let foreign = dir.path().join("foreign.db");
    let conn = rusqlite::Connection::open(&foreign).unwrap();
    conn.execute_batch("CREATE TABLE customers (phone TEXT); INSERT INTO customers VALUES ('1');")
        .unwrap();
    drop(conn);
    assert_refused(&foreign, "not a campaignctl state");
    let conn = rusqlite::Connection::open(&foreign).unwrap();
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .unwrap();
    assert_eq!(tables, 1, "no campaignctl table was created in it");
}

#[cfg(unix)]
#[test]
fn a_state_file_with_two_hard_links_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(open(&path).unwrap());
    std::fs::hard_link(&path, dir.path().join("alias.db")).unwrap();
    assert_refused(&path, "hard links");
    assert_refused(&dir.path().join("alias.db"), "hard links");
}

#[cfg(unix)]
#[test]
fn a_symlinked_name_shares_the_lock_of_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let link = dir.path().join("link.db");
    let mut store = open(&path).unwrap();
    std::os::unix::fs::symlink(&path, &link).unwrap();
    store.lock().unwrap();
    let mut other = open(&link).unwrap();
    let err = other.lock().unwrap_err().to_string();
    assert!(err.contains("locked by"), "{err}");
    assert!(
        err.contains("link.db"),
        "the message names the path given: {err}"
    );
    assert!(other.lock_holder().unwrap().is_some());
    drop(store);
    other.lock().unwrap();
}

#[test]
fn corrupt_settings_are_an_error_not_null() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = open(&path).unwrap();
    store.record_intent("c", "t", &body("t", &[1])).unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE attempts SET settings = '{not json'", [])
        .unwrap();
    let err = store.snapshot(["c"]).unwrap_err().to_string();
    assert!(err.contains("damaged") && err.contains("settings"), "{err}");
    assert!(store.attempts().is_err());
}

#[test]
fn a_changed_number_is_detected() {
    for change in [
        "UPDATE numbers SET phone = phone + 100",
        "UPDATE numbers SET phone = 447700900003 WHERE phone = 447700900002",
        "DELETE FROM numbers WHERE phone = 447700900002",
        "UPDATE numbers SET campaign_id = 7 WHERE phone = 447700900001",
        "UPDATE numbers SET attempt_id = 2 WHERE phone = 447700900001",
        "UPDATE campaigns SET name = 'd'",
        "INSERT INTO numbers VALUES (1, 447700900009, 1)",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut store = open(&path).unwrap();
        store.record_intent("c", "t", &body("t", &[1, 2])).unwrap();
        store.snapshot(["c"]).unwrap();
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(&format!("PRAGMA foreign_keys = OFF; {change}"))
            .unwrap();
        let err = store.snapshot(["c"]).unwrap_err().to_string();
        assert!(
            err.contains("damaged") && err.contains("c/\"t\""),
            "{change}: {err}"
        );
    }
}

/// Copies only the main file of the state at `path` into a new folder, as a cache step that
/// knows nothing of `-wal` files would.
fn copy_main_file_alone(path: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("state.db");
    std::fs::copy(path, &copy).unwrap();
    (dir, copy)
}

#[test]
fn a_main_file_separated_from_its_journal_mid_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut store = open(&path).unwrap();
    store.prepare_apply().unwrap();
    store.begin_run().unwrap();
    store.record_intent("c", "t", &body("t", &[1])).unwrap();
    // The apply is "killed" here: its intent lives in the WAL only.
    let (_keep, copy) = copy_main_file_alone(&path);
    let err = open(&copy).unwrap_err().to_string();
    assert!(
        err.contains("never finished") && err.contains("-wal"),
        "{err}"
    );
    assert!(err.contains(&std::process::id().to_string()), "{err}");
    // The original, with its WAL, is whole: the intent is there and the run can end.
    let mut again = open(&path).unwrap();
    assert_eq!(again.attempts().unwrap().len(), 1);
    store.end_run().unwrap();
}

#[test]
fn after_a_run_the_main_file_alone_holds_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut store = open(&path).unwrap();
    store.prepare_apply().unwrap();
    store.begin_run().unwrap();
    store.record_intent("c", "t", &body("t", &[1, 2])).unwrap();
    store.end_run().unwrap();
    let wal = std::fs::metadata(dir.path().join("state.db-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the WAL was checkpointed and truncated");
    let (_keep, copy) = copy_main_file_alone(&path);
    let mut copied = open(&copy).unwrap();
    let snapshot = copied.snapshot(["c"]).unwrap();
    assert_eq!(snapshot.campaigns["c"].sent_numbers.len(), 2);
}

/// The format-1 schema, exactly as campaignctl 0.1 created it.
const FORMAT_1: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    base_name TEXT NOT NULL,
    task_name TEXT NOT NULL,
    settings TEXT NOT NULL,
    status TEXT NOT NULL,
    number_count INTEGER NOT NULL,
    req_id TEXT,
    code INTEGER,
    message TEXT,
    forgotten INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS live_task_names
    ON attempts (campaign, task_name) WHERE status != 'rejected';
CREATE TABLE IF NOT EXISTS numbers (
    campaign TEXT NOT NULL,
    order_id TEXT NOT NULL,
    attempt_id INTEGER NOT NULL REFERENCES attempts (id),
    phone TEXT NOT NULL,
    PRIMARY KEY (campaign, order_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS numbers_by_attempt ON numbers (attempt_id);
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    attempt_id INTEGER,
    event TEXT NOT NULL,
    detail TEXT NOT NULL
);
INSERT INTO meta VALUES ('format', '1'), ('id', 'old'), ('version', '3'), ('plan_key', 'k');
INSERT INTO attempts VALUES
    (1, 'c', 't', 't', '{}', 'created', 2, 'r1', 0, NULL, 0, 'x', 'x'),
    (2, 'c', 'u', 'u', '{}', 'rejected', 1, NULL, 1003, NULL, 0, 'x', 'x');
INSERT INTO numbers VALUES ('c', 'ID1', 1, '447700900001'), ('c', 'ID2', 1, '447700900002');
";

/// [`FORMAT_1`] with the orderIDs campaignctl 0.1 gave those numbers in campaign `c`.
fn format_1() -> String {
    let sample = body("t", &[1, 2]);
    FORMAT_1
        .replace("'ID1'", &format!("'{}'", sample.call_list[0].order_id))
        .replace("'ID2'", &format!("'{}'", sample.call_list[1].order_id))
}

fn format_1_file(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("old.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; {} {extra}",
        format_1()
    ))
    .unwrap();
    path
}

#[test]
fn a_format_1_file_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = format_1_file(dir.path(), "");
    let mut store = open(&path).unwrap();
    let snapshot = store.snapshot(["c"]).unwrap();
    assert_eq!(snapshot.identity.id, "old");
    let campaign = &snapshot.campaigns["c"];
    assert_eq!(
        campaign.sent_numbers,
        [447_700_900_001, 447_700_900_002].into_iter().collect()
    );
    assert_eq!(campaign.attempts.len(), 2);
    // The new guard holds for the numbers recorded by the old format.
    let err = store.record_intent("c", "v", &body("v", &[1])).unwrap_err();
    assert!(err.to_string().contains("already holds"), "{err}");
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (format, kind, id): (String, String, i64) = conn
        .query_row(
            "SELECT (SELECT value FROM meta WHERE key = 'format'), \
             (SELECT typeof(phone) FROM numbers LIMIT 1), \
             (SELECT campaign_id FROM numbers LIMIT 1)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    assert_eq!((format.as_str(), kind.as_str(), id), ("4", "integer", 1));
}

#[test]
fn a_format_1_file_holding_a_number_twice_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = format_1_file(
        dir.path(),
        "INSERT INTO attempts VALUES (3, 'c', 'w', 'w', '{}', 'created', 1, NULL, 0, NULL, 0, \
         'x', 'x'); INSERT INTO numbers VALUES ('c', 'IDX', 3, '447700900001');",
    );
    let err = open(&path).unwrap_err().to_string();
    assert!(
        err.contains("cannot upgrade") && err.contains("twice"),
        "{err}"
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let format: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(format, "1");
}

#[test]
fn a_copy_into_another_state_plans_the_same_and_refuses_a_full_target() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = open(&dir.path().join("a.db")).unwrap();
    let id = source.record_intent("c", "t", &body("t", &[1, 2])).unwrap();
    source.record_outcome(id, &rejected(1003)).unwrap();
    source.record_intent("c", "t", &body("t", &[3])).unwrap();
    let target = sqlite(&dir.path().join("b.db"));
    let copied = migrate::copy(&mut source, &target).unwrap();
    assert_eq!((copied.attempts, copied.numbers), (2, 1));
    let mut copy = Store::open(&target).unwrap();
    let (a, b) = (
        source.snapshot(["c"]).unwrap(),
        copy.snapshot(["c"]).unwrap(),
    );
    assert_eq!(a.campaigns["c"].attempts, b.campaigns["c"].attempts);
    assert_eq!(a.campaigns["c"].sent_numbers, b.campaigns["c"].sent_numbers);
    assert_ne!(
        a.identity.id, b.identity.id,
        "the copy is a state of its own"
    );
    assert_ne!(source.plan_key().unwrap(), copy.plan_key().unwrap());
    drop(copy);
    let err = migrate::copy(&mut source, &target).unwrap_err().to_string();
    assert!(err.contains("already holds tasks"), "{err}");
}

#[test]
fn a_run_stopped_before_its_journal_began_is_cleared_while_its_wal_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(open(&path).unwrap());
    let marker = r#"{"run":"R","holder":{"pid":1,"host":"h","since":"s"}}"#;
    // A connection kept open keeps the WAL beside the file, as a killed apply leaves it.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("INSERT INTO meta VALUES ('run', ?1)", [marker])
        .unwrap();
    drop(open(&path).unwrap());
    let left: i64 = raw
        .query_row("SELECT count(*) FROM meta WHERE key = 'run'", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(left, 0, "the harmless marker was cleared");

    // Without the WAL, the same marker means the journal may be lost: refused.
    raw.execute("INSERT INTO meta VALUES ('run', ?1)", [marker])
        .unwrap();
    drop(raw);
    assert!(!dir.path().join("state.db-wal").exists());
    let err = open(&path).unwrap_err().to_string();
    assert!(err.contains("never finished"), "{err}");
}

#[test]
fn a_damaged_page_fails_the_check_before_an_apply() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut store = open(&path).unwrap();
    let numbers: Vec<u32> = (0..300).collect();
    store.record_intent("c", "t", &body("t", &numbers)).unwrap();
    drop(store);
    let (root, page_size): (i64, i64) = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_schema \
             WHERE name = 'numbers'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    // An invalid b-tree page type: the kind of damage a flipped bit in a page header does.
    bytes[usize::try_from((root - 1) * page_size).unwrap()] = 0xff;
    std::fs::write(&path, bytes).unwrap();
    let mut store = open(&path).unwrap();
    let err = store.prepare_apply().unwrap_err().to_string();
    assert!(
        err.contains("damaged") && err.contains("quick_check"),
        "{err}"
    );
}

#[test]
fn a_run_marker_is_judged_only_under_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(open(&path).unwrap());
    let marker = r#"{"run":"R","holder":{"pid":1,"host":"h","since":"s"}}"#;
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("INSERT INTO meta VALUES ('run', ?1)", [marker])
        .unwrap();
    drop(raw);
    // While another process holds the lock, the marker may be a live apply's, between its
    // first two commits: not refused.
    let held = StateLock::acquire(&std::fs::canonicalize(&path).unwrap()).unwrap();
    let mut store = open(&path).unwrap();
    assert!(store.lock().unwrap_err().to_string().contains("locked"));
    drop(held);
    // Under its own lock the store sees that no apply is running: the journal is gone.
    let err = store.lock().unwrap_err().to_string();
    assert!(err.contains("never finished"), "{err}");
}

#[test]
fn evidence_settles_only_what_is_still_in_doubt_and_writes_nothing_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = open(&path).unwrap();
    store.record_intent("c", "t", &body("t", &[1])).unwrap();
    let read_before = store.find("c", "t").unwrap().unwrap();
    // A person decided while the provider was being asked.
    store.resolve(&read_before, false).unwrap();
    let version = store.identity().unwrap().version;
    let err = store
        .resolve_created_with_evidence(&read_before, "seen", "{}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("rejected, no longer in doubt"), "{err}");
    assert_eq!(
        store.identity().unwrap().version,
        version,
        "nothing written"
    );
    let reconciled: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM journal WHERE event = 'reconciled'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(reconciled, 0);
}

#[test]
fn an_order_id_that_is_not_the_numbers_own_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("s.db")).unwrap();
    for forged in [
        "ID1",
        "",
        &body("t", &[1]).call_list[0].order_id.to_lowercase(),
    ] {
        let mut bad = body("t", &[1]);
        bad.call_list[0].order_id = forged.to_owned();
        let err = store.record_intent("c", "t", &bad).unwrap_err().to_string();
        assert!(err.contains("is not the one campaignctl gives"), "{err}");
    }
    // The id of the same number in another campaign is not its id here.
    let err = store
        .record_intent("c", "t", &body_in("d", "t", &[1]))
        .unwrap_err();
    assert!(err.to_string().contains("refusing"), "{err}");
    assert!(store.attempts().unwrap().is_empty());
}

#[test]
fn a_format_1_file_with_an_order_id_campaignctl_never_made_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = format_1_file(
        dir.path(),
        "UPDATE numbers SET order_id = 'ID1' WHERE phone = '447700900001';",
    );
    let err = open(&path).unwrap_err().to_string();
    assert!(
        err.contains("cannot upgrade") && err.contains("ID1"),
        "{err}"
    );
    let format: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(format, "1");
}

/// The numbers table of format 3: format 4's keyed by the campaign's name, the orderID's 16
/// bytes beside the attempt.
const NUMBERS_FORMAT_3: &str = "
CREATE TABLE numbers (
    campaign TEXT NOT NULL,
    phone INTEGER NOT NULL,
    order_id BLOB NOT NULL,
    attempt_id INTEGER NOT NULL REFERENCES attempts (id),
    PRIMARY KEY (campaign, phone)
) STRICT, WITHOUT ROWID;
";

/// A file of format 2 (orderIDs as text) or 3 (orderIDs in 16 bytes) holding `c/t` with
/// numbers 1 and 2 and the check value campaignctl recorded then; `extra` runs last.
fn older_file(dir: &Path, format: u32, extra: &str) -> PathBuf {
    let path = format_1_file(dir, "");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let rows: Vec<(String, String, i64, String)> = conn
        .prepare("SELECT campaign, order_id, attempt_id, phone FROM numbers")
        .unwrap()
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let table = match format {
        2 => sqlite::NUMBERS_FORMAT_2,
        _ => NUMBERS_FORMAT_3,
    };
    conn.execute_batch(&format!(
        "DROP TABLE numbers; DROP INDEX IF EXISTS numbers_by_attempt; {table}
         ALTER TABLE attempts ADD COLUMN digest INTEGER NOT NULL DEFAULT 0;
         UPDATE meta SET value = '{format}' WHERE key = 'format';
         PRAGMA application_id = {};",
        0x4343_5354
    ))
    .unwrap();
    let mut check = digest::Check::default();
    for (campaign, text, attempt_id, phone) in rows {
        let key = parse_order_id(&text).unwrap();
        let phone: i64 = phone.parse().unwrap();
        check.add_with_order_id(key, phone);
        let order_id = match format {
            2 => rusqlite::types::Value::Text(text),
            _ => rusqlite::types::Value::Blob(key.to_be_bytes().to_vec()),
        };
        conn.execute(
            "INSERT INTO numbers (campaign, order_id, attempt_id, phone) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![campaign, order_id, attempt_id, phone],
        )
        .unwrap();
    }
    conn.execute(
        "UPDATE attempts SET digest = ?1 WHERE id = 1",
        [check.value()],
    )
    .unwrap();
    conn.execute_batch(extra).unwrap();
    path
}

fn format_of(path: &Path) -> String {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |row| {
            row.get(0)
        })
        .unwrap()
}

#[test]
fn files_of_formats_2_and_3_are_upgraded_with_their_rows_proven() {
    for format in [2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let path = older_file(dir.path(), format, "");
        let mut store = open(&path).unwrap();
        let snapshot = store.snapshot(["c"]).unwrap();
        let campaign = &snapshot.campaigns["c"];
        assert_eq!(
            campaign.sent_numbers,
            [447_700_900_001, 447_700_900_002].into_iter().collect()
        );
        assert!(campaign.is_sent(&body("x", &[1]).call_list[0]));
        assert!(!campaign.is_sent(&body("x", &[3]).call_list[0]));
        // The orderIDs shown are those that were sent, derived again.
        let sent = body("t", &[1, 2]);
        let shown: Vec<String> = store.numbers(1).unwrap().into_iter().map(|n| n.0).collect();
        let expected: Vec<String> = sent.call_list.iter().map(|i| i.order_id.clone()).collect();
        assert_eq!(shown, expected, "format {format}");
        assert!(store.record_intent("c", "v", &body("v", &[2])).is_err());
        drop(store);
        assert_eq!(format_of(&path), "4");
    }
}

#[test]
fn files_of_formats_2_and_3_whose_rows_are_not_those_recorded_are_refused_untouched() {
    for (format, change, needle) in [
        (
            3,
            "DELETE FROM numbers WHERE phone = 447700900002",
            "no longer match",
        ),
        (
            3,
            "UPDATE attempts SET digest = digest + 1",
            "no longer match",
        ),
        (
            3,
            "UPDATE numbers SET order_id = zeroblob(16) WHERE phone = 447700900001",
            "is not the one campaignctl derives",
        ),
        (
            3,
            "UPDATE numbers SET phone = 447700900003 WHERE phone = 447700900002",
            "is not the one campaignctl derives",
        ),
        (3, "UPDATE numbers SET attempt_id = 2", "no longer match"),
        (
            2,
            "UPDATE numbers SET order_id = 'ID1' WHERE phone = 447700900001",
            "is not the one campaignctl derives",
        ),
        (
            2,
            "DELETE FROM numbers WHERE phone = 447700900002",
            "no longer match",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = older_file(dir.path(), format, change);
        let err = open(&path).unwrap_err().to_string();
        assert!(
            err.contains("cannot upgrade") && err.contains(needle),
            "{change}: {err}"
        );
        assert_eq!(format_of(&path), format.to_string(), "{change}");
    }
}

#[test]
fn one_commit_holds_many_writes_and_a_refused_one_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("s.db")).unwrap();
    let first = store.record_intent("c", "a", &body("a", &[1])).unwrap();
    let version = store.identity().unwrap().version;
    let intent = |name: &str, numbers: &[u32]| {
        Write::Intent(intent_of("c", name, &body(name, numbers)).unwrap())
    };
    let written = store
        .backend
        .write(vec![
            intent("b", &[2, 3]),
            intent("c", &[3, 4]),
            Write::Update(Update::Outcome {
                attempt_id: first,
                outcome: rejected(1003),
            }),
            intent("d", &[1]),
        ])
        .unwrap();
    let Written::Intent(Some(b)) = written[0] else {
        panic!("{written:?}")
    };
    assert_eq!(written[1], Written::Intent(None), "3 is b's");
    assert_eq!(written[2], Written::Update(true));
    assert!(
        matches!(written[3], Written::Intent(Some(_))),
        "1 was freed just before"
    );
    assert_eq!(store.identity().unwrap().version, version + 1, "one commit");
    let names: Vec<String> = store
        .attempts()
        .unwrap()
        .into_iter()
        .map(|a| a.task_name)
        .collect();
    assert_eq!(names, ["a", "b", "d"]);
    assert_eq!(store.numbers(b).unwrap().len(), 2);
    let snapshot = store.snapshot(["c"]).unwrap();
    assert_eq!(snapshot.campaigns["c"].sent_numbers.len(), 3);
}

#[test]
fn sends_since_counts_live_attempts_of_every_campaign_from_a_moment_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = open(&path).unwrap();
    let early = "2026-01-01T08:00:00Z";
    store
        .record_intent("c", "old", &body("old", &[1, 2]))
        .unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE attempts SET created_at = ?1", [early])
        .unwrap();
    let late = crate::clock::now();
    store.record_intent("c", "new", &body("new", &[3])).unwrap();
    store
        .record_intent("d", "new", &body_in("d", "new", &[1, 3]))
        .unwrap();
    let refused = store
        .record_intent("e", "gone", &body_in("e", "gone", &[3]))
        .unwrap();
    store.record_outcome(refused, &rejected(1003)).unwrap();

    let all = store.sends_since(early).unwrap();
    assert_eq!(
        all,
        HashMap::from([
            (447_700_900_001, 2),
            (447_700_900_002, 1),
            (447_700_900_003, 2)
        ])
    );
    let recent = store.sends_since(&late).unwrap();
    assert_eq!(
        recent,
        HashMap::from([(447_700_900_001, 1), (447_700_900_003, 2)])
    );
    assert!(
        store
            .sends_since("2999-01-01T00:00:00Z")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn intents_waiting_together_share_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = open(&path).unwrap();
    let before = store.identity().unwrap().version;
    // Another connection holds the write lock, so the store thread waits on its first batch
    // while the other intents queue behind it.
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        blocker.execute_batch("COMMIT").unwrap();
    });
    let group = std::sync::Arc::new(GroupCommit::start(store));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let recorded = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..20 {
            let group = group.clone();
            tasks.spawn(async move {
                let name = format!("t{i}");
                group.record_intent("c", &name, &body(&name, &[i])).await
            });
        }
        tasks.join_all().await
    });
    release.join().unwrap();
    assert!(recorded.iter().all(Result::is_ok), "{recorded:?}");
    let mut store = std::sync::Arc::try_unwrap(group)
        .unwrap_or_else(|_| panic!("the group is still shared"))
        .finish();
    assert_eq!(store.attempts().unwrap().len(), 20);
    let commits = store.identity().unwrap().version - before;
    assert!(
        commits <= 2,
        "20 intents queued together took {commits} commits"
    );
}
