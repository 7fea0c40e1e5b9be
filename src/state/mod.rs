//! The state store: what was sent, in a SQLite file that survives a crash at any instant.
//!
//! Every createandcall request is an *attempt*. Its intent (the task and every number in it) is
//! committed before the request leaves; its outcome is committed when it comes back. A number
//! belongs to at most one live (not rejected) attempt per campaign, enforced by a primary key,
//! so even a bug elsewhere cannot record the same number as sent twice.

mod lock;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

pub use lock::{LockInfo, StateLock};

use crate::error::Error;
use crate::nxcc::CreateAndCall;

/// The state file format this build writes; it refuses files of a newer one.
pub const FORMAT_VERSION: i64 = 1;

/// Where an attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The intent is recorded and the request is (or was, before a crash) on its way. Outside a
    /// running apply this means the outcome is unknown, exactly like `InDoubt`.
    Sending,
    /// The provider answered code 0.
    Created,
    /// The provider answered with a documented rejection, or a person resolved the attempt as
    /// not created. Its numbers may be planned again.
    Rejected,
    /// The outcome is unknown; its numbers are blocked until `state resolve`.
    InDoubt,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Sending => "sending",
            Status::Created => "created",
            Status::Rejected => "rejected",
            Status::InDoubt => "in-doubt",
        }
    }

    fn parse(text: &str) -> Result<Status, Error> {
        Ok(match text {
            "sending" => Status::Sending,
            "created" => Status::Created,
            "rejected" => Status::Rejected,
            "in-doubt" => Status::InDoubt,
            other => {
                return Err(Error::msg(format!(
                    "state file holds unknown status {other:?}"
                )));
            }
        })
    }

    /// Whether the provider may hold this task: its numbers count as sent.
    pub fn is_live(self) -> bool {
        self != Status::Rejected
    }

    /// Whether a person has to decide what happened.
    pub fn is_in_doubt(self) -> bool {
        matches!(self, Status::Sending | Status::InDoubt)
    }
}

/// One createandcall request as state knows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub id: i64,
    pub campaign: String,
    /// The task name in the files (the plan's identity of a task).
    pub base_name: String,
    /// The task name sent, `base_name` or a follow-up's `"{base_name} #N"`.
    pub task_name: String,
    /// The body without its numbers, as JSON: what "settings" means for change detection.
    pub settings: serde_json::Value,
    pub status: Status,
    pub number_count: i64,
    pub req_id: Option<String>,
    pub code: Option<i64>,
    pub message: Option<String>,
    /// Hidden from plans (an orphan someone chose to forget); its numbers still count as sent.
    pub forgotten: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// What plans need from state about one campaign.
#[derive(Debug, Clone, Default)]
pub struct CampaignState {
    pub attempts: Vec<Attempt>,
    /// orderIDs in live attempts: never to be sent again.
    pub sent_order_ids: HashSet<String>,
}

/// A consistent read of everything plans need, with the version it was read at.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub identity: StateIdentity,
    pub campaigns: HashMap<String, CampaignState>,
}

/// Which state file, and which revision of it: a saved plan is only valid against the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateIdentity {
    pub id: String,
    pub version: i64,
}

/// How an attempt ended, to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub status: Status,
    pub req_id: Option<String>,
    pub code: Option<i64>,
    pub message: Option<String>,
}

/// The open state file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

const SCHEMA: &str = "
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
";

impl Store {
    /// Opens the state file at `path`, creating it (mode 0600, with its folder) when absent.
    pub fn open(path: &Path) -> Result<Store, Error> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|err| Error::io(parent, err))?;
        }
        create_private(path)?;
        let conn = Connection::open(path).map_err(|err| sql_error(path, err))?;
        let store = Store {
            conn,
            path: path.to_owned(),
        };
        store.initialize()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn initialize(&self) -> Result<(), Error> {
        let conn = &self.conn;
        let setup = || -> rusqlite::Result<()> {
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            // WAL with full sync: a committed intent is on disk before the request leaves.
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            Ok(())
        };
        setup().map_err(|err| self.error(err))?;
        let format: Option<i64> = conn
            .query_row("SELECT value FROM meta WHERE key = 'format'", [], |row| {
                row.get::<_, String>(0)
            })
            .optional()
            .unwrap_or(None)
            .and_then(|text| text.parse().ok());
        if let Some(format) = format {
            if format > FORMAT_VERSION {
                return Err(Error::msg(format!(
                    "{} was written by a newer campaignctl (state format {format}; this one reads \
                     up to {FORMAT_VERSION}); upgrade campaignctl, the file was left untouched",
                    self.path.display()
                )));
            }
            return Ok(());
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let plan_key = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let create = || -> rusqlite::Result<()> {
            conn.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA}"))?;
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('format', ?1), ('id', ?2), \
                 ('version', '0'), ('plan_key', ?3)",
                params![FORMAT_VERSION.to_string(), id, plan_key],
            )?;
            conn.execute_batch("COMMIT")
        };
        create().map_err(|err| {
            let _ = conn.execute_batch("ROLLBACK");
            self.error(err)
        })
    }

    fn error(&self, err: rusqlite::Error) -> Error {
        sql_error(&self.path, err)
    }

    /// The state's identity and current version.
    pub fn identity(&self) -> Result<StateIdentity, Error> {
        read_identity(&self.conn).map_err(|err| self.error(err))
    }

    /// The key that seals saved plans made against this state, so an edited plan file, or one
    /// made against another state file, is refused.
    pub fn plan_key(&self) -> Result<Vec<u8>, Error> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'plan_key'", [], |row| {
                row.get::<_, String>(0)
            })
            .map(String::into_bytes)
            .map_err(|err| self.error(err))
    }

    /// Everything plans need about `campaigns`, read in one transaction.
    pub fn snapshot<'a>(
        &mut self,
        campaigns: impl IntoIterator<Item = &'a str>,
    ) -> Result<Snapshot, Error> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(|err| sql_error(&path, err))?;
        let read = || -> Result<Snapshot, rusqlite::Error> {
            let identity = read_identity(&tx)?;
            let mut snapshot = Snapshot {
                identity,
                campaigns: HashMap::new(),
            };
            let mut attempts =
                tx.prepare(&format!("{ATTEMPT_SELECT} WHERE campaign = ?1 ORDER BY id"))?;
            let mut numbers = tx.prepare(
                "SELECT n.order_id FROM numbers n JOIN attempts a ON a.id = n.attempt_id \
                 WHERE n.campaign = ?1 AND a.status != 'rejected'",
            )?;
            for campaign in campaigns {
                let mut state = CampaignState::default();
                for attempt in attempts.query_map([campaign], attempt_from_row)? {
                    state.attempts.push(attempt?);
                }
                for order_id in numbers.query_map([campaign], |row| row.get::<_, String>(0))? {
                    state.sent_order_ids.insert(order_id?);
                }
                snapshot.campaigns.insert(campaign.to_owned(), state);
            }
            Ok(snapshot)
        };
        let snapshot = read().map_err(|err| sql_error(&path, err))?;
        tx.commit().map_err(|err| sql_error(&path, err))?;
        Ok(snapshot)
    }

    /// Every attempt, oldest first.
    pub fn attempts(&self) -> Result<Vec<Attempt>, Error> {
        let mut statement = self
            .conn
            .prepare(&format!("{ATTEMPT_SELECT} ORDER BY id"))
            .map_err(|err| self.error(err))?;
        let rows = statement
            .query_map([], attempt_from_row)
            .map_err(|err| self.error(err))?;
        rows.collect::<Result<_, _>>()
            .map_err(|err| self.error(err))
    }

    /// The live attempt named `campaign`/`task_name`, else the latest rejected one.
    pub fn find(&self, campaign: &str, task_name: &str) -> Result<Option<Attempt>, Error> {
        self.conn
            .query_row(
                &format!(
                    "{ATTEMPT_SELECT} WHERE campaign = ?1 AND task_name = ?2 \
                     ORDER BY status = 'rejected', id DESC LIMIT 1"
                ),
                params![campaign, task_name],
                attempt_from_row,
            )
            .optional()
            .map_err(|err| self.error(err))
    }

    /// The phone numbers of an attempt (live attempts only keep them).
    pub fn numbers(&self, attempt_id: i64) -> Result<Vec<(String, String)>, Error> {
        let mut statement = self
            .conn
            .prepare("SELECT order_id, phone FROM numbers WHERE attempt_id = ?1 ORDER BY phone")
            .map_err(|err| self.error(err))?;
        let rows = statement
            .query_map([attempt_id], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|err| self.error(err))?;
        rows.collect::<Result<_, _>>()
            .map_err(|err| self.error(err))
    }

    /// Durably records that `body` is about to be sent for `campaign`/`base_name`, before a
    /// single byte leaves. Fails, recording nothing, when any of its numbers is already sent in
    /// the campaign or its name is taken: the last line of defence against dialing twice.
    pub fn record_intent(
        &mut self,
        campaign: &str,
        base_name: &str,
        body: &CreateAndCall,
    ) -> Result<i64, Error> {
        let path = self.path.clone();
        let now = now();
        let settings = settings_of(body);
        let write = |tx: &rusqlite::Transaction| -> rusqlite::Result<i64> {
            tx.execute(
                "INSERT INTO attempts (campaign, base_name, task_name, settings, status, \
                 number_count, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'sending', ?5, ?6, ?6)",
                params![
                    campaign,
                    base_name,
                    body.task_name,
                    settings.to_string(),
                    body.call_list.len() as i64,
                    now
                ],
            )?;
            let attempt_id = tx.last_insert_rowid();
            let mut insert = tx.prepare_cached(
                "INSERT INTO numbers (campaign, order_id, attempt_id, phone) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for item in &body.call_list {
                insert.execute(params![
                    campaign,
                    item.order_id,
                    attempt_id,
                    item.user_phone
                ])?;
            }
            journal(
                tx,
                attempt_id,
                "intent",
                &format!("{} numbers", body.call_list.len()),
            )?;
            bump_version(tx)?;
            Ok(attempt_id)
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|err| sql_error(&path, err))?;
        match write(&tx) {
            Ok(id) => {
                tx.commit().map_err(|err| sql_error(&path, err))?;
                Ok(id)
            }
            Err(rusqlite::Error::SqliteFailure(failure, _))
                if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(Error::msg(format!(
                    "refusing to send {campaign}/{}: state already holds that task name or one \
                     of its numbers as sent; nothing was sent (run `campaignctl plan` again)",
                    body.task_name
                )))
            }
            Err(err) => Err(sql_error(&path, err)),
        }
    }

    /// Records how an attempt ended. A rejection frees its numbers to be planned again.
    pub fn record_outcome(&mut self, attempt_id: i64, outcome: &Recorded) -> Result<(), Error> {
        let detail = match (&outcome.code, &outcome.message) {
            (Some(code), Some(message)) => format!("code {code}: {message}"),
            (Some(code), None) => format!("code {code}"),
            (None, Some(message)) => message.clone(),
            (None, None) => String::new(),
        };
        self.update(attempt_id, outcome.status.as_str(), &detail, |tx| {
            tx.execute(
                "UPDATE attempts SET status = ?2, req_id = ?3, code = ?4, message = ?5, \
                 updated_at = ?6 WHERE id = ?1",
                params![
                    attempt_id,
                    outcome.status.as_str(),
                    outcome.req_id,
                    outcome.code,
                    outcome.message,
                    now()
                ],
            )?;
            if outcome.status == Status::Rejected {
                tx.execute("DELETE FROM numbers WHERE attempt_id = ?1", [attempt_id])?;
            }
            Ok(())
        })
    }

    /// A person's decision on an attempt in doubt: it was created, or it was not.
    pub fn resolve(&mut self, attempt: &Attempt, created: bool) -> Result<(), Error> {
        if !attempt.status.is_in_doubt() {
            return Err(Error::msg(format!(
                "{}/{} is {}, not in doubt; only tasks in doubt can be resolved",
                attempt.campaign,
                attempt.task_name,
                attempt.status.as_str()
            )));
        }
        let (status, message) = if created {
            (Status::Created, "resolved by a person as created")
        } else {
            (Status::Rejected, "resolved by a person as not created")
        };
        self.record_outcome(
            attempt.id,
            &Recorded {
                status,
                req_id: attempt.req_id.clone(),
                code: attempt.code,
                message: Some(message.to_owned()),
            },
        )
    }

    /// Hides a task from plans. Its numbers stay recorded as sent: forgetting a task must never
    /// make its numbers dialable again.
    pub fn forget(&mut self, attempt: &Attempt) -> Result<(), Error> {
        if attempt.status.is_in_doubt() {
            return Err(Error::msg(format!(
                "{}/{} is in doubt; resolve it first with `campaignctl state resolve`",
                attempt.campaign, attempt.task_name
            )));
        }
        self.update(attempt.id, "forget", "", |tx| {
            tx.execute(
                "UPDATE attempts SET forgotten = 1, updated_at = ?2 WHERE campaign = ?1 \
                 AND base_name = ?3",
                params![attempt.campaign, now(), attempt.base_name],
            )?;
            Ok(())
        })
    }

    /// Marks every attempt still `sending` as in doubt: run when an apply starts, since the
    /// lock proves no other apply is sending, so those are left from a crash.
    pub fn settle_interrupted(&mut self) -> Result<usize, Error> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|err| sql_error(&path, err))?;
        let settle = |tx: &rusqlite::Transaction| -> rusqlite::Result<usize> {
            let changed = tx.execute(
                "UPDATE attempts SET status = 'in-doubt', message = 'interrupted while sending \
                 (the process stopped before the answer was recorded)', updated_at = ?1 \
                 WHERE status = 'sending'",
                [now()],
            )?;
            // No version bump: `sending` and `in-doubt` block the same numbers and names, so no
            // plan changes, and a plan saved after a crash must still apply.
            if changed > 0 {
                journal(
                    tx,
                    0,
                    "settle",
                    &format!("{changed} interrupted attempts in doubt"),
                )?;
            }
            Ok(changed)
        };
        let changed = settle(&tx).map_err(|err| sql_error(&path, err))?;
        tx.commit().map_err(|err| sql_error(&path, err))?;
        Ok(changed)
    }

    fn update(
        &mut self,
        attempt_id: i64,
        event: &str,
        detail: &str,
        change: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<()>,
    ) -> Result<(), Error> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|err| sql_error(&path, err))?;
        let run = |tx: &rusqlite::Transaction| -> rusqlite::Result<()> {
            change(tx)?;
            journal(tx, attempt_id, event, detail)?;
            bump_version(tx)
        };
        run(&tx).map_err(|err| sql_error(&path, err))?;
        tx.commit().map_err(|err| sql_error(&path, err))
    }

    /// Settles an attempt in doubt as created because the provider's own call records show it
    /// dialed: `summary` becomes its message (what `state show` prints), `evidence` (JSON) the
    /// detail of a `reconciled` journal event. Its numbers stay sent.
    pub fn resolve_created_with_evidence(
        &mut self,
        attempt: &Attempt,
        summary: &str,
        evidence: &str,
    ) -> Result<(), Error> {
        // Read afresh: `attempt` was read before the provider was asked, which takes a while.
        let status = self
            .conn
            .query_row(
                "SELECT status FROM attempts WHERE id = ?1",
                [attempt.id],
                |row| row.get::<_, String>(0),
            )
            .map_err(|err| self.error(err))
            .and_then(|text| Status::parse(&text))?;
        if !status.is_in_doubt() {
            return Err(Error::msg(format!(
                "{}/{} is {}, no longer in doubt; it was left as it is",
                attempt.campaign,
                attempt.task_name,
                status.as_str()
            )));
        }
        self.update(attempt.id, "reconciled", evidence, |tx| {
            // Guarded again here: only a task still in doubt may become created.
            let changed = tx.execute(
                "UPDATE attempts SET status = 'created', message = ?2, updated_at = ?3 \
                 WHERE id = ?1 AND status IN ('sending', 'in-doubt')",
                params![attempt.id, summary, now()],
            )?;
            match changed {
                1 => Ok(()),
                other => Err(rusqlite::Error::StatementChangedRows(other)),
            }
        })
    }
}

const ATTEMPT_SELECT: &str = "SELECT id, campaign, base_name, task_name, settings, status, \
    number_count, req_id, code, message, forgotten, created_at, updated_at FROM attempts";

fn attempt_from_row(row: &rusqlite::Row) -> rusqlite::Result<Attempt> {
    let status: String = row.get(5)?;
    let settings: String = row.get(4)?;
    Ok(Attempt {
        id: row.get(0)?,
        campaign: row.get(1)?,
        base_name: row.get(2)?,
        task_name: row.get(3)?,
        settings: serde_json::from_str(&settings).unwrap_or(serde_json::Value::Null),
        status: Status::parse(&status).map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, err.into())
        })?,
        number_count: row.get(6)?,
        req_id: row.get(7)?,
        code: row.get(8)?,
        message: row.get(9)?,
        forgotten: row.get(10)?,
        created_at: row.get(11)?,
        updated_at: row.get(12)?,
    })
}

/// A task's settings: its body without the numbers.
pub fn settings_of(body: &CreateAndCall) -> serde_json::Value {
    // Serialized without its numbers: a task may hold a million of them, and turning each into
    // a JSON value only to drop it would cost seconds and hundreds of megabytes.
    let mut value = serde_json::to_value(body.without_numbers()).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.remove("callList");
    }
    value
}

fn read_identity(conn: &Connection) -> rusqlite::Result<StateIdentity> {
    let get = |key: &str| -> rusqlite::Result<String> {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
    };
    Ok(StateIdentity {
        id: get("id")?,
        version: get("version")?.parse().unwrap_or(0),
    })
}

fn bump_version(tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'version'",
        [],
    )
    .map(drop)
}

fn journal(
    tx: &rusqlite::Transaction,
    attempt_id: i64,
    event: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO journal (at, attempt_id, event, detail) VALUES (?1, ?2, ?3, ?4)",
        params![now(), attempt_id, event, detail],
    )
    .map(drop)
}

/// Now, as RFC 3339 UTC.
pub fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn sql_error(path: &Path, err: rusqlite::Error) -> Error {
    Error::msg(format!("state file {}: {err}", path.display()))
}

/// Creates `path` readable by its owner only, when it does not exist yet: state holds phone
/// numbers.
fn create_private(path: &Path) -> Result<(), Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(Error::io(path, err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(name: &str, numbers: &[u32]) -> CreateAndCall {
        CreateAndCall::sample(name, numbers)
    }

    #[test]
    fn a_number_cannot_be_recorded_as_sent_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let first = store.record_intent("c", "t", &body("t", &[1, 2])).unwrap();
        let err = store
            .record_intent("c", "u", &body("u", &[2, 3]))
            .unwrap_err();
        assert!(err.to_string().contains("refusing"), "{err}");
        // Nothing of the refused attempt was kept.
        assert_eq!(store.attempts().unwrap().len(), 1);
        // Another campaign may dial the same number.
        store.record_intent("d", "t", &body("t", &[2])).unwrap();
        // A rejection frees the numbers.
        store
            .record_outcome(
                first,
                &Recorded {
                    status: Status::Rejected,
                    req_id: None,
                    code: Some(1003),
                    message: None,
                },
            )
            .unwrap();
        store.record_intent("c", "t", &body("t", &[2, 3])).unwrap();
        let snapshot = store.snapshot(["c"]).unwrap();
        let sent = &snapshot.campaigns["c"].sent_order_ids;
        assert_eq!(sent.len(), 2);
        assert!(snapshot.identity.version >= 4);
    }

    #[test]
    fn interrupted_attempts_become_in_doubt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut store = Store::open(&path).unwrap();
        store.record_intent("c", "t", &body("t", &[1])).unwrap();
        drop(store);
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.settle_interrupted().unwrap(), 1);
        let attempt = store.find("c", "t").unwrap().unwrap();
        assert_eq!(attempt.status, Status::InDoubt);
        store.resolve(&attempt, false).unwrap();
        assert!(
            store.snapshot(["c"]).unwrap().campaigns["c"]
                .sent_order_ids
                .is_empty()
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_state_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/s.db");
        Store::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
