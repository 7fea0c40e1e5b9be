//! The SQLite backend: one file that survives a crash at any instant and refuses to be fooled.
//!
//! - Only a path that does not exist is created, and atomically (built as a temporary file, then
//!   renamed into place), so a 0-byte file, a foreign SQLite database or any other file at the
//!   path is refused instead of silently read as "nothing sent".
//! - A file with more than one hard link is refused, and the file is opened (and locked) by its
//!   resolved path, so every name of one file shares one lock, one WAL and one apply at a time.
//! - An apply records a "run started" marker in the main file (checkpointed) before its first
//!   request and a matching "journal begun" record in the WAL right after. A main file whose last
//!   run's journal is missing was separated from its WAL (copied alone after a kill): refused.
//! - At the end of every apply the WAL is checkpointed and truncated, so the main file alone
//!   holds everything at rest and copying it is safe.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::StateError;
use super::lock::{LockInfo, StateLock};
use super::{
    AttemptRow, Backend, Dump, Intent, JournalRow, NumberRow, RawRead, SentNumber, StateIdentity,
    Update, Write, Written,
};

/// The state file format this build writes; it refuses files of a newer one and upgrades
/// older ones in place.
pub const FORMAT_VERSION: i64 = 4;

/// `PRAGMA application_id` of a campaignctl state ("CCST"): a file without it (and without
/// format 1's tables) is not ours.
const APPLICATION_ID: i64 = 0x4343_5354;

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE attempts (
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
    updated_at TEXT NOT NULL,
    digest INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX live_task_names
    ON attempts (campaign, task_name) WHERE status != 'rejected';
CREATE INDEX attempts_by_campaign ON attempts (campaign);
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    attempt_id INTEGER,
    event TEXT NOT NULL,
    detail TEXT NOT NULL
) STRICT;
";

/// The numbers of format 4: one b-tree keyed by the campaign's number and the E.164 integer,
/// the attempt beside them; about 15 bytes a number in the file. Rejected attempts' numbers are deleted, so
/// every row is a live attempt's, and the key is the guard against a number sent twice. No
/// orderID is stored: the store refuses any orderID but the one derived from the campaign and
/// the number (`state::intent_of`), so it is derived again where it is shown. Nor is there an
/// index by attempt: only rejections and `state show` look numbers up that way, and they scan
/// the attempt's campaign.
///
/// Why so small: an intent's numbers are spread over the whole key (a call list is in no
/// order of its numbers), so its commit writes nearly one page per number once the tree is
/// large, and the cost of an apply of a million numbers is the number of pages its tree
/// has. The campaign's name in every row and the orderID's 16 bytes made it 48 bytes a
/// number, and that apply about twice as slow (docs/performance.md).
const NUMBERS: &str = "
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
) STRICT;
CREATE TABLE numbers (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    phone INTEGER NOT NULL,
    attempt_id INTEGER NOT NULL REFERENCES attempts (id),
    PRIMARY KEY (campaign_id, phone)
) STRICT, WITHOUT ROWID;
";

/// The numbers table of format 2, which a format-1 file passes through.
pub(super) const NUMBERS_FORMAT_2: &str = "
CREATE TABLE numbers (
    campaign TEXT NOT NULL,
    order_id TEXT NOT NULL,
    attempt_id INTEGER NOT NULL REFERENCES attempts (id),
    phone INTEGER NOT NULL,
    PRIMARY KEY (campaign, order_id)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX live_numbers ON numbers (campaign, phone);
CREATE INDEX numbers_by_attempt ON numbers (attempt_id);
";

/// The numbers of an attempt, found through its campaign (the key's first column).
const OF_ATTEMPT: &str = "WHERE campaign_id = (SELECT campaigns.id FROM campaigns \
    JOIN attempts ON attempts.campaign = campaigns.name WHERE attempts.id = ?1) \
    AND attempt_id = ?1";

/// How many WAL pages an apply lets gather before SQLite copies them into the main file (a
/// checkpoint, run by the commit that crosses the mark). An intent of 10,000 numbers changes
/// thousands of pages of the numbers' b-tree, so at SQLite's default (1,000) every intent's
/// commit also ran a checkpoint; at 16,384 (64 MiB with 4 KiB pages) one checkpoint covers
/// several commits, and a page changed by each of them is copied once. The WAL stays bounded
/// by the mark plus one commit, and is emptied when the run ends (`end_run`).
const RUN_AUTOCHECKPOINT: i64 = 16_384;
/// SQLite's own mark, for everything but an apply's run.
const DEFAULT_AUTOCHECKPOINT: i64 = 1_000;

pub struct SqliteBackend {
    conn: Connection,
    /// The path as the user gave it, for messages.
    shown: PathBuf,
    /// The file's resolved path: what is opened and locked.
    resolved: PathBuf,
    lock: Option<StateLock>,
    /// Whether the WAL was beside the file before this process opened it (opening creates one).
    wal_present: bool,
}

impl SqliteBackend {
    pub fn open(path: &Path) -> Result<SqliteBackend, StateError> {
        let resolved = resolve(path)?;
        if !resolved.exists() {
            create(path, &resolved)?;
        }
        check_file(path, &resolved)?;
        // Looked at before SQLite opens the file: opening and closing it may create or remove
        // the WAL.
        let wal_present = wal_path(&resolved).exists();
        let conn = Connection::open_with_flags(
            &resolved,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|err| sql_error(path, err))?;
        let mut backend = SqliteBackend {
            conn,
            shown: path.to_owned(),
            resolved,
            lock: None,
            wal_present,
        };
        backend.initialize()?;
        Ok(backend)
    }

    fn error(&self, err: rusqlite::Error) -> StateError {
        sql_error(&self.shown, err)
    }

    fn initialize(&mut self) -> Result<(), StateError> {
        self.conn
            .busy_timeout(Duration::from_secs(5))
            .map_err(|err| self.error(err))?;
        let format = match identify(&self.conn).map_err(|err| self.error(err))? {
            Kind::Ours(format) => format,
            Kind::FormatOne => 1,
            Kind::Foreign => {
                return Err(StateError::msg(format!(
                    "{} is not a campaignctl state (a SQLite database without campaignctl's \
                     tables); refusing to use it, nothing was written. Pass --state the path of \
                     a campaignctl state, or a path that does not exist yet to start a new one",
                    self.shown.display()
                )));
            }
        };
        if format > FORMAT_VERSION {
            return Err(super::newer(
                &self.shown.display().to_string(),
                format,
                FORMAT_VERSION,
            ));
        }
        let setup = |conn: &Connection| -> rusqlite::Result<()> {
            // WAL with full sync: a committed intent is on disk before the request leaves.
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")
        };
        setup(&self.conn).map_err(|err| self.error(err))?;
        if format < FORMAT_VERSION {
            self.upgrade()?;
        }
        self.refuse_lost_journal(false)
    }

    /// Upgrades a file of an older format in one transaction, or leaves it untouched saying
    /// why it cannot.
    fn upgrade(&mut self) -> Result<(), StateError> {
        let shown = self.shown.display().to_string();
        let mut from = 0;
        let result = self.transaction(TransactionBehavior::Immediate, |tx| {
            // Another process may have upgraded the file while this one waited for the lock.
            from = format_of(tx)?;
            if from == 1
                && let Err(reason) = upgrade_1_to_2(tx)?
            {
                return Ok(Err(reason));
            }
            if from < FORMAT_VERSION {
                if let Err(reason) = upgrade_to_4(tx)? {
                    return Ok(Err(reason));
                }
                tx.execute(
                    "UPDATE meta SET value = ?1 WHERE key = 'format'",
                    [FORMAT_VERSION.to_string()],
                )?;
                tx.pragma_update(None, "application_id", APPLICATION_ID)?;
                journal(
                    tx,
                    0,
                    "upgrade",
                    &format!("format {from} to {FORMAT_VERSION}"),
                )?;
            }
            Ok(Ok(()))
        });
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(StateError::msg(format!(
                "cannot upgrade the state file {shown} from format {from}: {reason}; it was left \
                 untouched (restore it from a backup, or ask for help)"
            ))),
            Err(err) => Err(self.error(err)),
        }
    }

    /// The run marker when it has no journal record: the run began sending and either never
    /// got to its first record, or its WAL (holding that record and all it sent) is gone.
    fn open_run(&self) -> Result<Option<String>, StateError> {
        let get = |key: &str| -> rusqlite::Result<Option<String>> {
            self.conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                    row.get(0)
                })
                .optional()
        };
        let Some(run) = get("run").map_err(|err| self.error(err))? else {
            return Ok(None);
        };
        let journal = get("run_journal").map_err(|err| self.error(err))?;
        let marker = serde_json::from_str::<RunMarker>(&run).ok();
        let run_id = marker.as_ref().map_or(run.as_str(), |m| m.run.as_str());
        if journal.as_deref() == Some(run_id) {
            return Ok(None);
        }
        Ok(Some(marker.map_or_else(
            || "an earlier apply".to_owned(),
            |m| m.holder.describe(),
        )))
    }

    /// Refuses a file whose last apply began sending but whose journal of that run is gone.
    /// Needs the apply lock (held by the caller, or taken here for a moment): without it, an
    /// apply running right now between its marker and its journal's first record looks the
    /// same, and is left alone.
    fn refuse_lost_journal(&mut self, held: bool) -> Result<(), StateError> {
        let Some(holder) = self.open_run()? else {
            return Ok(());
        };
        let _lock = if held {
            None
        } else {
            match StateLock::acquire(&self.resolved) {
                Ok(lock) => Some(lock),
                Err(_) => return Ok(()),
            }
        };
        if self.wal_present {
            // With its WAL beside it the file is whole: that run was stopped between its
            // marker and its journal's first record, before anything of it was recorded or
            // sent. The marker is cleared, so the WAL going away later does not make the file
            // look separated from it.
            return self.set_meta("run", None).map_err(|err| self.error(err));
        }
        let shown = self.shown.display();
        Err(StateError::msg(format!(
            "the state file {shown} is incomplete: the apply started by {holder} never finished, \
             and the journal that recorded what it sent ({shown}-wal) is not with this file (it \
             was copied, cached or restored without its -wal file after that apply was killed). \
             Tasks that apply sent may be missing, so nothing was sent. Recover by putting the \
             {shown}-wal file from the machine that ran that apply beside this file (always copy \
             a state file together with its -wal, or keep state in PostgreSQL); if it is lost, \
             check in the NXCC console which tasks that run created before you continue"
        )))
    }

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    fn transaction<T>(
        &mut self,
        behavior: TransactionBehavior,
        f: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let tx = self.conn.transaction_with_behavior(behavior)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    fn set_meta(&mut self, key: &str, value: Option<&str>) -> rusqlite::Result<()> {
        self.transaction(TransactionBehavior::Immediate, |tx| {
            match value {
                Some(value) => tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![key, value],
                )?,
                None => tx.execute("DELETE FROM meta WHERE key = ?1", [key])?,
            };
            Ok(())
        })
    }

    /// Moves everything in the WAL into the main file and empties the WAL. Fails when a reader
    /// kept it from completing.
    fn checkpoint(&self) -> Result<(), StateError> {
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
            .map_err(|err| self.error(err))?;
        if busy != 0 {
            return Err(StateError::msg(format!(
                "state file {}: another process kept its journal from being written into the \
                 file; try again",
                self.shown.display()
            )));
        }
        Ok(())
    }
}

/// Format 1 to 2: numbers become integers under a unique key per campaign, and every live
/// attempt gets its check value.
fn upgrade_1_to_2(tx: &rusqlite::Transaction) -> rusqlite::Result<Result<(), String>> {
    let bad: i64 = tx.query_row(
        "SELECT count(*) FROM numbers WHERE phone = '' OR length(phone) > 15 \
         OR phone GLOB '*[^0-9]*' OR phone GLOB '0*'",
        [],
        |row| row.get(0),
    )?;
    if bad > 0 {
        return Ok(Err(format!("{bad} stored numbers are not E.164 digits")));
    }
    let duplicates: Option<String> = tx
        .query_row(
            "SELECT campaign FROM numbers GROUP BY campaign, CAST(phone AS INTEGER) \
             HAVING count(*) > 1 LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(campaign) = duplicates {
        return Ok(Err(format!(
            "campaign {campaign} holds one number as sent twice"
        )));
    }
    tx.execute_batch(&format!(
        "ALTER TABLE attempts ADD COLUMN digest INTEGER NOT NULL DEFAULT 0;
         CREATE INDEX IF NOT EXISTS attempts_by_campaign ON attempts (campaign);
         ALTER TABLE numbers RENAME TO numbers_format_1;
         DROP INDEX IF EXISTS numbers_by_attempt;
         {NUMBERS_FORMAT_2}
         INSERT INTO numbers (campaign, order_id, attempt_id, phone)
             SELECT campaign, order_id, attempt_id, CAST(phone AS INTEGER)
             FROM numbers_format_1;
         DROP TABLE numbers_format_1;"
    ))?;
    // Check values as formats 2 and 3 made them, over the orderIDs as text: the upgrade to 4
    // proves the rows it carries over against them.
    let mut checks: HashMap<i64, super::digest::Check> = HashMap::new();
    let mut rows = tx.prepare("SELECT attempt_id, order_id, phone FROM numbers")?;
    let mut rows = rows.query([])?;
    while let Some(row) = rows.next()? {
        let text: String = row.get(1)?;
        let Some(key) = crate::nxcc::order_id::parse_order_id(&text) else {
            return Ok(Err(format!(
                "the stored orderID {text:?} is not one campaignctl makes"
            )));
        };
        checks
            .entry(row.get(0)?)
            .or_default()
            .add_with_order_id(key, row.get(2)?);
    }
    let mut update = tx.prepare("UPDATE attempts SET digest = ?2 WHERE id = ?1")?;
    for (attempt_id, check) in checks {
        update.execute(params![attempt_id, check.value()])?;
    }
    Ok(Ok(()))
}

/// Formats 2 and 3 to 4: campaigns numbered, orderIDs no longer stored (format 2 kept them
/// as text beside two more indexes, format 3 in 16 bytes). Every row carried over is proven
/// first: its orderID the one derived from its campaign and number, and each live attempt's
/// rows together matching the check value recorded with its intent. Then the check values are
/// made again over the numbers alone.
fn upgrade_to_4(tx: &rusqlite::Transaction) -> rusqlite::Result<Result<(), String>> {
    tx.execute_batch(&format!(
        "ALTER TABLE numbers RENAME TO numbers_before_4;
         DROP INDEX IF EXISTS live_numbers;
         DROP INDEX IF EXISTS numbers_by_attempt;
         {NUMBERS}
         INSERT INTO campaigns (name) SELECT DISTINCT campaign FROM numbers_before_4
             ORDER BY campaign;
         INSERT INTO numbers (campaign_id, phone, attempt_id)
             SELECT campaigns.id, phone, attempt_id FROM numbers_before_4
             JOIN campaigns ON campaigns.name = numbers_before_4.campaign
             ORDER BY campaigns.id, phone;"
    ))?;
    let mut recheck = super::digest::Recheck::<i64>::new();
    {
        let mut rows =
            tx.prepare("SELECT attempt_id, campaign, order_id, phone FROM numbers_before_4")?;
        let mut rows = rows.query([])?;
        while let Some(row) = rows.next()? {
            let campaign: String = row.get(1)?;
            let added = recheck.add(row.get(0)?, &campaign, order_id_of(row, 2)?, row.get(3)?);
            if let Err(reason) = added {
                return Ok(Err(reason));
            }
        }
        let mut live = tx.prepare(
            "SELECT id, campaign, task_name, number_count, digest FROM attempts \
             WHERE status != 'rejected'",
        )?;
        let mut live = live.query([])?;
        while let Some(row) = live.next()? {
            let shown = format!(
                "{}/{:?}",
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?
            );
            if let Err(reason) = recheck.verify(&row.get(0)?, row.get(3)?, row.get(4)?, &shown) {
                return Ok(Err(reason));
            }
        }
    }
    let checks = match recheck.finish() {
        Ok(checks) => checks,
        Err(reason) => return Ok(Err(reason)),
    };
    let mut update = tx.prepare("UPDATE attempts SET digest = ?2 WHERE id = ?1")?;
    for (attempt_id, check) in checks {
        update.execute(params![attempt_id, check.value()])?;
    }
    tx.execute_batch("DROP TABLE numbers_before_4;")?;
    Ok(Ok(()))
}

/// The writes of a batch but those `refused` (by an earlier try), in one transaction: the
/// answers, or the index of the first write a unique key refuses (the caller rolls back and
/// tries again without it).
fn write_batch(
    tx: &rusqlite::Transaction,
    writes: &[Write],
    refused: &[bool],
    now: &str,
) -> rusqlite::Result<Result<Vec<Written>, usize>> {
    let mut answers = Vec::with_capacity(writes.len());
    for (index, (write, &refused)) in writes.iter().zip(refused).enumerate() {
        if refused {
            answers.push(write.refused());
            continue;
        }
        match write_one(tx, write, now) {
            Ok(Some((attempt_id, detail, answer))) => {
                journal(tx, attempt_id, write.event(), &detail)?;
                answers.push(answer);
            }
            // Found nothing to change: nothing was written.
            Ok(None) => answers.push(write.refused()),
            Err(err) if matches!(write, Write::Intent(_)) && is_constraint(&err) => {
                return Ok(Err(index));
            }
            Err(err) => return Err(err),
        }
    }
    if answers
        .iter()
        .any(|a| *a != Written::Intent(None) && *a != Written::Update(false))
    {
        // Cached, like every statement of a batch: an apply commits thousands of batches.
        tx.prepare_cached(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) \
             WHERE key = 'version'",
        )?
        .execute([])?;
    }
    Ok(Ok(answers))
}

/// One write of a batch, inside the batch's transaction: the journal line's attempt and
/// detail and the answer, or `None` when there is nothing to change.
fn write_one(
    tx: &rusqlite::Transaction,
    write: &Write,
    now: &str,
) -> rusqlite::Result<Option<(i64, String, Written)>> {
    match write {
        Write::Intent(intent) => record_intent(tx, intent, now),
        Write::Update(update) => Ok(apply_update(tx, update, now)?
            .map(|(attempt_id, detail)| (attempt_id, detail, Written::Update(true)))),
    }
}

fn record_intent(
    tx: &rusqlite::Transaction,
    intent: &Intent,
    now: &str,
) -> rusqlite::Result<Option<(i64, String, Written)>> {
    tx.prepare_cached(
        "INSERT INTO attempts (campaign, base_name, task_name, settings, status, \
         number_count, created_at, updated_at, digest) \
         VALUES (?1, ?2, ?3, ?4, 'sending', ?5, ?6, ?6, ?7)",
    )?
    .execute(params![
        intent.campaign,
        intent.base_name,
        intent.task_name,
        intent.settings,
        intent.numbers.len() as i64,
        now,
        intent.digest
    ])?;
    let attempt_id = tx.last_insert_rowid();
    let campaign_id = campaign_id(tx, &intent.campaign)?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO numbers (campaign_id, phone, attempt_id) VALUES (?1, ?2, ?3)",
    )?;
    for phone in &intent.numbers {
        insert.execute(params![campaign_id, phone, attempt_id])?;
    }
    let detail = format!("{} numbers", intent.numbers.len());
    Ok(Some((
        attempt_id,
        detail,
        Written::Intent(Some(attempt_id)),
    )))
}

/// The number of `campaign` in the numbers' key, given it the first time.
fn campaign_id(tx: &rusqlite::Transaction, campaign: &str) -> rusqlite::Result<i64> {
    let known = tx
        .prepare_cached("SELECT id FROM campaigns WHERE name = ?1")?
        .query_row([campaign], |row| row.get(0))
        .optional()?;
    match known {
        Some(id) => Ok(id),
        None => {
            tx.prepare_cached("INSERT INTO campaigns (name) VALUES (?1)")?
                .execute([campaign])?;
            Ok(tx.last_insert_rowid())
        }
    }
}

fn apply_update(
    tx: &rusqlite::Transaction,
    update: &Update,
    now: &str,
) -> rusqlite::Result<Option<(i64, String)>> {
    match update {
        Update::Outcome {
            attempt_id,
            outcome,
        } => {
            tx.prepare_cached(
                "UPDATE attempts SET status = ?2, req_id = ?3, code = ?4, message = ?5, \
                 updated_at = ?6 WHERE id = ?1",
            )?
            .execute(params![
                attempt_id,
                outcome.status.as_str(),
                outcome.req_id,
                outcome.code,
                outcome.message,
                now
            ])?;
            if !outcome.status.is_live() {
                tx.execute(&format!("DELETE FROM numbers {OF_ATTEMPT}"), [attempt_id])?;
            }
            Ok(Some((*attempt_id, outcome.status.as_str().to_owned())))
        }
        Update::Forget {
            attempt_id,
            campaign,
            base_name,
        } => {
            tx.execute(
                "UPDATE attempts SET forgotten = 1, updated_at = ?2 WHERE campaign = ?1 \
                 AND base_name = ?3",
                params![campaign, now, base_name],
            )?;
            Ok(Some((*attempt_id, String::new())))
        }
        Update::Reconciled {
            attempt_id,
            summary,
            evidence,
        } => {
            let changed = tx.execute(
                "UPDATE attempts SET status = 'created', message = ?2, updated_at = ?3 \
                 WHERE id = ?1 AND status IN ('sending', 'in-doubt')",
                params![attempt_id, summary, now],
            )?;
            Ok((changed == 1).then(|| (*attempt_id, evidence.clone())))
        }
    }
}

fn is_constraint(err: &rusqlite::Error) -> bool {
    matches!(err, rusqlite::Error::SqliteFailure(failure, _)
        if failure.code == rusqlite::ErrorCode::ConstraintViolation)
}

/// The marker of a run that began sending.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct RunMarker {
    run: String,
    holder: LockInfo,
}

impl Backend for SqliteBackend {
    fn location(&self) -> String {
        self.shown.display().to_string()
    }

    fn identity(&mut self) -> Result<StateIdentity, StateError> {
        read_identity(&self.conn).map_err(|err| self.error(err))
    }

    fn plan_key(&mut self) -> Result<Vec<u8>, StateError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'plan_key'", [], |row| {
                row.get::<_, String>(0)
            })
            .map(String::into_bytes)
            .map_err(|err| self.error(err))
    }

    fn read(&mut self, campaigns: &[String]) -> Result<RawRead, StateError> {
        let read = self.transaction(TransactionBehavior::Deferred, |tx| {
            let mut raw = RawRead {
                identity: read_identity(tx)?,
                ..RawRead::default()
            };
            for campaign in campaigns {
                raw.attempts.extend(read_attempts(
                    tx,
                    "WHERE campaign = ?1 ORDER BY id",
                    [campaign],
                )?);
                raw.numbers
                    .push((campaign.clone(), read_sent(tx, campaign)?));
            }
            Ok(raw)
        });
        read.map_err(|err| self.error(err))
    }

    fn attempts(&mut self) -> Result<Vec<AttemptRow>, StateError> {
        read_attempts(&self.conn, "ORDER BY id", []).map_err(|err| self.error(err))
    }

    fn find(&mut self, campaign: &str, task_name: &str) -> Result<Option<AttemptRow>, StateError> {
        let found = read_attempts(
            &self.conn,
            "WHERE campaign = ?1 AND task_name = ?2 \
             ORDER BY status = 'rejected', id DESC LIMIT 1",
            [campaign, task_name],
        );
        found
            .map(|rows| rows.into_iter().next())
            .map_err(|err| self.error(err))
    }

    fn numbers(&mut self, attempt_id: i64) -> Result<Vec<NumberRow>, StateError> {
        read_numbers(&self.conn, OF_ATTEMPT, [attempt_id]).map_err(|err| self.error(err))
    }

    fn write(&mut self, writes: Vec<Write>) -> Result<Vec<Written>, StateError> {
        let now = crate::clock::now();
        // A write a unique key refuses rolls back the whole batch, which then runs again
        // without it (at most once per write, and refusals are rare: a bug, a forged plan, a
        // second apply's numbers). Not a savepoint per write: under one, SQLite first copies
        // every page the write changes to a statement journal, and an intent of 10,000
        // numbers spread over the numbers' b-tree changes most of it (a fifth of an apply's
        // time, measured: docs/performance.md).
        let mut refused = vec![false; writes.len()];
        loop {
            let tried = (|| {
                let tx = self
                    .conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)?;
                let answers = write_batch(&tx, &writes, &refused, &now)?;
                if answers.is_ok() {
                    tx.commit()?;
                }
                // Dropped uncommitted otherwise: rolled back.
                Ok(answers)
            })();
            match tried {
                Ok(Ok(answers)) => return Ok(answers),
                Ok(Err(index)) => refused[index] = true,
                Err(err) => return Err(self.error(err)),
            }
        }
    }

    fn sends_since(&mut self, since: &str) -> Result<HashMap<i64, u32>, StateError> {
        let counted = (|| {
            let mut statement = self.conn.prepare(
                "SELECT phone, count(*) FROM numbers WHERE attempt_id IN \
                 (SELECT id FROM attempts WHERE created_at >= ?1 AND status != 'rejected') \
                 GROUP BY phone",
            )?;
            let rows = statement.query_map([since], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect::<rusqlite::Result<HashMap<i64, u32>>>()
        })();
        counted.map_err(|err| self.error(err))
    }

    fn settle_interrupted(&mut self) -> Result<usize, StateError> {
        let now = crate::clock::now();
        let settled = self.transaction(TransactionBehavior::Immediate, |tx| {
            let changed = tx.execute(
                &format!("{} WHERE status = 'sending'", super::SETTLE),
                [now],
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
        });
        settled.map_err(|err| self.error(err))
    }

    fn lock(&mut self) -> Result<(), StateError> {
        if self.lock.is_none() {
            self.lock = Some(StateLock::acquire(&self.resolved).map_err(|err| {
                StateError::msg(err.to_string().replace(
                    &self.resolved.display().to_string(),
                    &self.shown.display().to_string(),
                ))
            })?);
            // Checked again under the lock: at open another process may have held it.
            self.refuse_lost_journal(true)?;
        }
        Ok(())
    }

    fn lock_holder(&mut self) -> Result<Option<String>, StateError> {
        StateLock::holder(&self.resolved)
    }

    fn check(&mut self) -> Result<(), StateError> {
        let mut statement = self
            .conn
            .prepare("PRAGMA quick_check")
            .map_err(|err| self.error(err))?;
        let problems: Vec<String> = match statement
            .query_map([], |row| row.get::<_, String>(0))
            .and_then(|rows| rows.collect())
        {
            Ok(problems) => problems,
            // Damage bad enough that the check itself stops is reported as the same.
            Err(rusqlite::Error::SqliteFailure(failure, message))
                if failure.code == rusqlite::ErrorCode::DatabaseCorrupt =>
            {
                vec![message.unwrap_or_else(|| failure.to_string())]
            }
            Err(err) => return Err(self.error(err)),
        };
        if problems.len() == 1 && problems[0] == "ok" {
            return Ok(());
        }
        Err(StateError::msg(format!(
            "the state file {} is damaged (SQLite's quick_check: {}); nothing was sent. Restore \
             it from a backup (or the copy it was made from) before applying again",
            self.shown.display(),
            problems.into_iter().take(3).collect::<Vec<_>>().join("; ")
        )))
    }

    fn begin_run(&mut self, holder: &LockInfo) -> Result<(), StateError> {
        let run = uuid::Uuid::new_v4().simple().to_string();
        let marker = serde_json::to_string(&RunMarker {
            run: run.clone(),
            holder: holder.clone(),
        })
        .unwrap_or_default();
        // The marker must reach the main file itself; the journal record must not (until the
        // run ends), so a main file separated from its WAL shows a run without its journal.
        self.set_meta("run", Some(&marker))
            .map_err(|err| self.error(err))?;
        self.checkpoint()?;
        self.set_meta("run_journal", Some(&run))
            .map_err(|err| self.error(err))?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", RUN_AUTOCHECKPOINT)
            .map_err(|err| self.error(err))
    }

    fn end_run(&mut self) -> Result<(), StateError> {
        let closed = self.transaction(TransactionBehavior::Immediate, |tx| {
            tx.execute("DELETE FROM meta WHERE key IN ('run', 'run_journal')", [])
                .map(drop)
        });
        closed.map_err(|err| self.error(err))?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", DEFAULT_AUTOCHECKPOINT)
            .map_err(|err| self.error(err))?;
        self.checkpoint()
    }

    fn dump(&mut self) -> Result<Dump, StateError> {
        let dumped = self.transaction(TransactionBehavior::Deferred, |tx| {
            let mut journal = tx.prepare(
                "SELECT at, coalesce(attempt_id, 0), event, detail FROM journal ORDER BY seq",
            )?;
            let journal = journal
                .query_map([], |row| {
                    Ok(JournalRow {
                        at: row.get(0)?,
                        attempt_id: row.get(1)?,
                        event: row.get(2)?,
                        detail: row.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Dump {
                version: read_identity(tx)?.version,
                attempts: read_attempts(tx, "ORDER BY id", [])?,
                numbers: read_numbers(tx, "", [])?,
                journal,
            })
        });
        dumped.map_err(|err| self.error(err))
    }

    fn load(&mut self, dump: &Dump) -> Result<(), StateError> {
        let loaded = self.transaction(TransactionBehavior::Immediate, |tx| {
            let mut attempt = tx.prepare(
                "INSERT INTO attempts (id, campaign, base_name, task_name, settings, status, \
                 number_count, req_id, code, message, forgotten, created_at, updated_at, digest) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?;
            for a in &dump.attempts {
                attempt.execute(params![
                    a.id,
                    a.campaign,
                    a.base_name,
                    a.task_name,
                    a.settings,
                    a.status,
                    a.number_count,
                    a.req_id,
                    a.code,
                    a.message,
                    a.forgotten,
                    a.created_at,
                    a.updated_at,
                    a.digest
                ])?;
            }
            let mut number = tx.prepare(
                "INSERT INTO numbers (campaign_id, phone, attempt_id) VALUES (?1, ?2, ?3)",
            )?;
            for n in &dump.numbers {
                number.execute(params![
                    campaign_id(tx, &n.campaign)?,
                    n.phone,
                    n.attempt_id
                ])?;
            }
            let mut line = tx.prepare(
                "INSERT INTO journal (at, attempt_id, event, detail) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for j in &dump.journal {
                line.execute(params![j.at, j.attempt_id, j.event, j.detail])?;
            }
            tx.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'version'",
                [dump.version.to_string()],
            )?;
            Ok(())
        });
        loaded.map_err(|err| self.error(err))?;
        self.checkpoint()
    }

    fn is_empty(&mut self) -> Result<bool, StateError> {
        let count: i64 = self
            .conn
            .query_row("SELECT count(*) FROM attempts", [], |row| row.get(0))
            .map_err(|err| self.error(err))?;
        Ok(count == 0)
    }
}

/// What an existing SQLite file is.
enum Kind {
    Ours(i64),
    FormatOne,
    Foreign,
}

fn identify(conn: &Connection) -> rusqlite::Result<Kind> {
    let application_id: i64 = conn.query_row("PRAGMA application_id", [], |row| row.get(0))?;
    let has_table = |name: &str| -> rusqlite::Result<bool> {
        conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [name],
            |row| row.get::<_, i64>(0),
        )
        .map(|count| count > 0)
    };
    let ours = has_table("meta")? && has_table("attempts")? && has_table("numbers")?;
    if !ours {
        return Ok(Kind::Foreign);
    }
    let format = format_of(conn)?;
    Ok(match (application_id, format) {
        (APPLICATION_ID, format) => Kind::Ours(format),
        (0, 1) => Kind::FormatOne,
        _ => Kind::Foreign,
    })
}

fn format_of(conn: &Connection) -> rusqlite::Result<i64> {
    let text: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |row| {
            row.get(0)
        })
        .optional()?;
    Ok(text.and_then(|t| t.parse().ok()).unwrap_or(0))
}

/// The path to open: symlinks resolved, so every name of a file is one state. A path that does
/// not exist resolves inside its (created) folder.
fn resolve(path: &Path) -> Result<PathBuf, StateError> {
    match std::fs::canonicalize(path) {
        Ok(resolved) => Ok(resolved),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(StateError::msg(format!(
                    "the state path {} is a symbolic link to a file that does not exist; \
                     refusing to create a state behind it",
                    path.display()
                )));
            }
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::create_dir_all(parent).map_err(|err| StateError::io(parent, err))?;
            let parent =
                std::fs::canonicalize(parent).map_err(|err| StateError::io(parent, err))?;
            let name = path.file_name().ok_or_else(|| {
                StateError::msg(format!("the state path {} names no file", path.display()))
            })?;
            Ok(parent.join(name))
        }
        Err(err) => Err(StateError::io(path, err)),
    }
}

/// Refuses anything at the path that cannot be a campaignctl state file, before SQLite sees it.
fn check_file(shown: &Path, resolved: &Path) -> Result<(), StateError> {
    let refuse = |why: &str| {
        Err(StateError::msg(format!(
            "{} {why}; refusing to use it as state, nothing was written. Pass --state the \
             path of a campaignctl state, or a path that does not exist yet to start a new one",
            shown.display()
        )))
    };
    let metadata = std::fs::metadata(resolved).map_err(|err| StateError::io(shown, err))?;
    if !metadata.is_file() {
        return refuse("is not a regular file");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if metadata.nlink() > 1 {
            return Err(StateError::msg(format!(
                "the state file {} has {} hard links: under several names one state would get \
                 several locks and journals, and two applies could send the same numbers; \
                 refusing to use it, nothing was written. Keep one name (remove the other links) and point --state, \
                 or a symbolic link, at it",
                shown.display(),
                metadata.nlink()
            )));
        }
    }
    if metadata.len() == 0 {
        return refuse("is an empty file (0 bytes), not a campaignctl state");
    }
    let mut header = [0u8; 16];
    let mut file = std::fs::File::open(resolved).map_err(|err| StateError::io(shown, err))?;
    if file.read_exact(&mut header).is_err() || &header != b"SQLite format 3\0" {
        return refuse("is not a campaignctl state (not a SQLite database at all)");
    }
    Ok(())
}

/// Creates a new state at `resolved` atomically: built in a temporary file beside it (mode
/// 0600: state holds phone numbers), then moved into place unless something got there first.
fn create(shown: &Path, resolved: &Path) -> Result<(), StateError> {
    let folder = resolved.parent().unwrap_or(Path::new("."));
    let temporary = tempfile::Builder::new()
        .prefix(".campaignctl-new-state-")
        .tempfile_in(folder)
        .map_err(|err| StateError::io(folder, err))?;
    {
        let conn = Connection::open(temporary.path()).map_err(|err| sql_error(shown, err))?;
        let (id, plan_key) = super::new_identity();
        let build = || -> rusqlite::Result<()> {
            conn.pragma_update(None, "application_id", APPLICATION_ID)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.execute_batch(&format!("BEGIN; {SCHEMA} {NUMBERS}"))?;
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('format', ?1), ('id', ?2), \
                 ('version', '0'), ('plan_key', ?3)",
                params![FORMAT_VERSION.to_string(), id, plan_key],
            )?;
            conn.execute_batch("COMMIT")
        };
        build().map_err(|err| sql_error(shown, err))?;
        conn.close().map_err(|(_, err)| sql_error(shown, err))?;
    }
    temporary
        .as_file()
        .sync_all()
        .map_err(|err| StateError::io(shown, err))?;
    match temporary.persist_noclobber(resolved) {
        Ok(_) => Ok(()),
        // Another process created it first: use theirs.
        Err(err) if err.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(StateError::io(shown, err.error)),
    }
}

const ATTEMPT_SELECT: &str = "SELECT id, campaign, base_name, task_name, settings, status, \
    number_count, req_id, code, message, forgotten, created_at, updated_at, digest FROM attempts";

fn read_attempts(
    conn: &Connection,
    clause: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<AttemptRow>> {
    let mut statement = conn.prepare_cached(&format!("{ATTEMPT_SELECT} {clause}"))?;
    let rows = statement.query_map(params, |row| {
        Ok(AttemptRow {
            id: row.get(0)?,
            campaign: row.get(1)?,
            base_name: row.get(2)?,
            task_name: row.get(3)?,
            settings: row.get(4)?,
            status: row.get(5)?,
            number_count: row.get(6)?,
            req_id: row.get(7)?,
            code: row.get(8)?,
            message: row.get(9)?,
            forgotten: row.get(10)?,
            created_at: row.get(11)?,
            updated_at: row.get(12)?,
            digest: row.get(13)?,
        })
    })?;
    rows.collect()
}

fn read_numbers(
    conn: &Connection,
    clause: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<NumberRow>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT attempt_id, campaigns.name, phone FROM numbers \
         JOIN campaigns ON campaigns.id = numbers.campaign_id {clause}"
    ))?;
    let rows = statement.query_map(params, |row| {
        Ok(NumberRow {
            attempt_id: row.get(0)?,
            campaign: row.get(1)?,
            phone: row.get(2)?,
        })
    })?;
    rows.collect()
}

/// The live numbers of `campaign`, in key order.
fn read_sent(conn: &Connection, campaign: &str) -> rusqlite::Result<Vec<SentNumber>> {
    let mut statement = conn.prepare_cached(
        "SELECT attempt_id, phone FROM numbers \
         WHERE campaign_id = (SELECT id FROM campaigns WHERE name = ?1)",
    )?;
    let rows = statement.query_map([campaign], |row| {
        Ok(SentNumber {
            attempt_id: row.get(0)?,
            phone: row.get(1)?,
        })
    })?;
    rows.collect()
}

/// The orderID an older format stored in column `index`: 32 hex digits (format 2) or 16
/// bytes (format 3). Anything else reads as 0, which is no number's orderID, so the upgrade
/// refuses it.
fn order_id_of(row: &rusqlite::Row, index: usize) -> rusqlite::Result<u128> {
    Ok(match row.get_ref(index)? {
        rusqlite::types::ValueRef::Text(text) => std::str::from_utf8(text)
            .ok()
            .and_then(crate::nxcc::order_id::parse_order_id)
            .unwrap_or(0),
        rusqlite::types::ValueRef::Blob(bytes) => {
            <[u8; 16]>::try_from(bytes).map_or(0, u128::from_be_bytes)
        }
        _ => 0,
    })
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

fn journal(
    tx: &rusqlite::Transaction,
    attempt_id: i64,
    event: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO journal (at, attempt_id, event, detail) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![crate::clock::now(), attempt_id, event, detail])
    .map(drop)
}

/// The WAL SQLite keeps beside the file at `path`.
fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

fn sql_error(path: &Path, err: rusqlite::Error) -> StateError {
    StateError::msg(format!("state file {}: {err}", path.display()))
}
