//! The PostgreSQL backend: one database holds many workspaces, each a state with exactly the
//! SQLite backend's semantics, for teams and CI runners that share it.
//!
//! The apply lock is a session advisory lock per workspace, released by the server when the
//! holder's connection ends (however its process died), so there are no stale locks. The
//! connection is never re-established inside one store: once it is lost, the lock may be
//! someone else's, so every later write fails and nothing more is sent.
//!
//! The synchronous `postgres` client runs its own runtime and panics when called from inside
//! another one, and apply calls the store from async code; so the client lives on a thread of
//! its own and the store sends it jobs. (That thread is also where group commit can go later.)

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use postgres::error::SqlState;
use postgres::{Client, Transaction};

use super::StateError;
use super::pg_url::PgUrl;
use super::{
    AttemptRow, Backend, Dump, Intent, JournalRow, LockInfo, NumberRow, RawRead, SentNumber,
    StateIdentity, Update, Write, Written,
};
use crate::nxcc::order_id::{order_key, parse_order_id};

/// The schema format this build writes; it refuses databases of a newer one and upgrades
/// older ones.
pub const FORMAT_VERSION: i32 = 3;

/// How long taking the apply lock waits for its holder before naming it and giving up.
const LOCK_WAIT_MS: u32 = 2000;

/// Serializes schema creation and upgrades between processes (an advisory transaction lock).
const SCHEMA_LOCK: i64 = 0x4343_5354_0000_0001;

const SCHEMA: &str = "
CREATE SCHEMA IF NOT EXISTS campaignctl;
CREATE TABLE campaignctl.format (
    single BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (single),
    version INTEGER NOT NULL
);
CREATE TABLE campaignctl.workspaces (
    name TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    version BIGINT NOT NULL,
    plan_key TEXT NOT NULL,
    next_attempt BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE TABLE campaignctl.attempts (
    workspace TEXT NOT NULL REFERENCES campaignctl.workspaces (name),
    id BIGINT NOT NULL,
    campaign TEXT NOT NULL,
    base_name TEXT NOT NULL,
    task_name TEXT NOT NULL,
    settings TEXT NOT NULL,
    status TEXT NOT NULL,
    number_count BIGINT NOT NULL,
    req_id TEXT,
    code BIGINT,
    message TEXT,
    forgotten BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    digest BIGINT NOT NULL,
    PRIMARY KEY (workspace, id)
);
CREATE UNIQUE INDEX live_task_names
    ON campaignctl.attempts (workspace, campaign, task_name) WHERE status <> 'rejected';
CREATE INDEX attempts_by_campaign ON campaignctl.attempts (workspace, campaign);
CREATE TABLE campaignctl.journal (
    seq BIGSERIAL PRIMARY KEY,
    workspace TEXT NOT NULL,
    at TEXT NOT NULL,
    attempt_id BIGINT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL
);
";

/// The numbers table of format 3, as in SQLite's format 4: keyed by the number, no orderID
/// (the store admits only the one derived from campaign and number, so it is derived again
/// where it is shown), no index by attempt.
const NUMBERS: &str = "
CREATE TABLE campaignctl.numbers (
    workspace TEXT NOT NULL,
    campaign TEXT NOT NULL,
    phone BIGINT NOT NULL,
    attempt_id BIGINT NOT NULL,
    CONSTRAINT numbers_key PRIMARY KEY (workspace, campaign, phone),
    CONSTRAINT numbers_attempt FOREIGN KEY (workspace, attempt_id)
        REFERENCES campaignctl.attempts (workspace, id)
);
";

/// The numbers of attempt `$2` of workspace `$1`, found through its campaign (a key prefix).
const OF_ATTEMPT: &str = "WHERE workspace = $1 AND campaign = (SELECT campaign FROM \
    campaignctl.attempts WHERE workspace = $1 AND id = $2) AND attempt_id = $2";

const ATTEMPT_SELECT: &str = "SELECT id, campaign, base_name, task_name, settings, status, \
    number_count, req_id, code, message, forgotten, created_at, updated_at, digest \
    FROM campaignctl.attempts";

type Job = Box<dyn FnOnce(&mut Client) + Send>;

pub struct PgBackend {
    url: PgUrl,
    jobs: Option<mpsc::Sender<Job>>,
    worker: Option<JoinHandle<()>>,
    locked: bool,
}

impl Drop for PgBackend {
    fn drop(&mut self) {
        // Closing the channel ends the worker, which closes the connection (and frees the lock).
        self.jobs.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl PgBackend {
    /// Connects, creates or checks the schema, and creates the workspace when `create` is set.
    pub fn open(url: &PgUrl, create: bool) -> Result<PgBackend, StateError> {
        let (jobs, receiver) = mpsc::channel::<Job>();
        let (ready, connected) = mpsc::channel();
        let config = url.config.clone();
        let purpose = application_name();
        let worker = std::thread::Builder::new()
            .name("campaignctl-postgres".to_owned())
            .spawn(move || {
                let mut config = config;
                config.application_name(&purpose);
                // Commits must be durable before a request leaves, whatever the server's default.
                let client = tls().and_then(|tls| {
                    let mut client = config.connect(tls).map_err(|err| describe(&err))?;
                    client
                        .batch_execute("SET synchronous_commit TO on")
                        .map_err(|err| describe(&err))?;
                    Ok(client)
                });
                let mut client = match client {
                    Ok(client) => {
                        let _ = ready.send(Ok(()));
                        client
                    }
                    Err(err) => {
                        let _ = ready.send(Err(err));
                        return;
                    }
                };
                for job in receiver {
                    job(&mut client);
                }
            })
            .map_err(|err| StateError::msg(format!("cannot start the PostgreSQL client: {err}")))?;
        let mut backend = PgBackend {
            url: url.clone(),
            jobs: Some(jobs),
            worker: Some(worker),
            locked: false,
        };
        match connected.recv() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                return Err(StateError::msg(format!(
                    "cannot connect to the PostgreSQL state {}: {}",
                    backend.url,
                    backend.url.mask(&err)
                )));
            }
            Err(_) => return Err(backend.lost()),
        }
        backend.prepare(create)?;
        Ok(backend)
    }

    /// Runs `f` on the connection's thread and waits for its answer.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error> + Send + 'static,
    ) -> Result<T, StateError> {
        let (answer, answered) = mpsc::channel();
        let job: Job = Box::new(move |client| {
            let _ = answer.send(f(client));
        });
        let sent = self.jobs.as_ref().map(|jobs| jobs.send(job));
        if !matches!(sent, Some(Ok(()))) {
            return Err(self.lost());
        }
        answered
            .recv()
            .map_err(|_| self.lost())?
            .map_err(|err| self.error(&err))
    }

    fn error(&self, err: &postgres::Error) -> StateError {
        if err.is_closed() {
            return self.lost();
        }
        StateError::msg(format!(
            "PostgreSQL state {}: {}",
            self.url,
            self.url.mask(&describe(err))
        ))
    }

    fn lost(&self) -> StateError {
        StateError::msg(format!(
            "the connection to the PostgreSQL state {} was lost; nothing more is sent in this \
             run (a request whose answer could not be recorded stays in doubt: see `campaignctl \
             state list`)",
            self.url
        ))
    }

    /// Creates the schema on first use, refuses a newer one, and finds (or creates) the
    /// workspace: all in one transaction, serialized between processes.
    fn prepare(&mut self, create: bool) -> Result<(), StateError> {
        let workspace = self.url.workspace.clone();
        let (id, plan_key) = super::new_identity();
        let now = crate::clock::now();
        let prepared = self.call(move |client| {
            transaction(client, |tx| {
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
                let exists: bool = tx
                    .query_one("SELECT to_regclass('campaignctl.format') IS NOT NULL", &[])?
                    .try_get(0)?;
                if !exists {
                    if !create {
                        return Ok(Prepared::NoWorkspace);
                    }
                    tx.batch_execute(SCHEMA)?;
                    tx.batch_execute(NUMBERS)?;
                    tx.execute(
                        "INSERT INTO campaignctl.format (version) VALUES ($1)",
                        &[&FORMAT_VERSION],
                    )?;
                }
                let format: i32 = tx
                    .query_one("SELECT version FROM campaignctl.format", &[])?
                    .try_get(0)?;
                if format > FORMAT_VERSION {
                    return Ok(Prepared::Newer(format));
                }
                if format < FORMAT_VERSION {
                    if !create {
                        return Ok(Prepared::Older(format));
                    }
                    if format < 2
                        && let Err(reason) = upgrade_1_to_2(tx)?
                    {
                        return Ok(Prepared::Unupgradable(format, reason));
                    }
                    if let Err(reason) = upgrade_2_to_3(tx)? {
                        return Ok(Prepared::Unupgradable(format, reason));
                    }
                }
                let exists = |tx: &mut Transaction| {
                    tx.query_opt(
                        "SELECT 1 FROM campaignctl.workspaces WHERE name = $1",
                        &[&workspace],
                    )
                    .map(|row| row.is_some())
                };
                // Written only when missing, so a role that may only read (a pull request's
                // plan job) can use a workspace that exists.
                let mut found = exists(tx)?;
                if !found && create {
                    tx.execute(
                        "INSERT INTO campaignctl.workspaces (name, id, version, plan_key, \
                         created_at) VALUES ($1, $2, 0, $3, $4) ON CONFLICT (name) DO NOTHING",
                        &[&workspace, &id, &plan_key, &now],
                    )?;
                    found = exists(tx)?;
                }
                Ok(if found {
                    Prepared::Ready
                } else {
                    Prepared::NoWorkspace
                })
            })
        })?;
        match prepared {
            Prepared::Ready => Ok(()),
            Prepared::Newer(format) => Err(super::newer(
                &format!("the PostgreSQL state {}", self.url),
                i64::from(format),
                i64::from(FORMAT_VERSION),
            )),
            Prepared::Older(format) => Err(StateError::msg(format!(
                "the PostgreSQL state {} is of the older format {format}; run `campaignctl plan` \
                 or `apply` once with a role that may write, to upgrade it",
                self.url
            ))),
            Prepared::Unupgradable(format, reason) => Err(StateError::msg(format!(
                "cannot upgrade the PostgreSQL state {} from format {format}: {reason}; it was \
                 left untouched",
                self.url
            ))),
            Prepared::NoWorkspace => Err(StateError::msg(format!(
                "no workspace {:?} in the PostgreSQL state {}: nothing was applied to it yet \
                 (check --workspace)",
                self.url.workspace, self.url
            ))),
        }
    }

    fn workspace(&self) -> String {
        self.url.workspace.clone()
    }

    /// The advisory lock key of this workspace: a stable hash of its name (two names sharing a
    /// key only ever wait for each other, never run at once).
    fn lock_key(&self) -> i64 {
        let hash = super::digest::fnv1a(
            b"campaignctl workspace "
                .iter()
                .copied()
                .chain(self.url.workspace.bytes()),
        );
        i64::from_ne_bytes(hash.to_ne_bytes())
    }
}

enum Prepared {
    Ready,
    Newer(i32),
    Older(i32),
    Unupgradable(i32, String),
    NoWorkspace,
}

/// Format 1 to 2, for every workspace of the database, inside the caller's transaction:
/// numbers keyed by the number with 16-byte orderIDs, each checked to be the one derived from
/// its campaign and number. An error string when a stored orderID is not.
fn upgrade_1_to_2(tx: &mut Transaction) -> Result<Result<(), String>, postgres::Error> {
    tx.batch_execute("ALTER TABLE campaignctl.numbers RENAME TO numbers_format_1")?;
    // Format 2's table: format 3's with the orderID's 16 bytes (constraint names are explicit,
    // so that the format-1 table can sit beside it).
    tx.batch_execute(NUMBERS)?;
    tx.batch_execute("ALTER TABLE campaignctl.numbers ADD COLUMN order_id BYTEA NOT NULL")?;
    let rows = tx.query(
        "SELECT workspace, campaign, order_id, attempt_id, phone \
         FROM campaignctl.numbers_format_1",
        &[],
    )?;
    for row in &rows {
        let (campaign, text, phone): (String, String, i64) =
            (row.try_get(1)?, row.try_get(2)?, row.try_get(4)?);
        if parse_order_id(&text) != Some(order_key(&campaign, &phone.to_string())) {
            return Ok(Err(format!(
                "the stored orderID {text:?} of campaign {campaign} is not the one campaignctl \
                 derives for its number"
            )));
        }
    }
    tx.execute(
        "INSERT INTO campaignctl.numbers (workspace, campaign, phone, order_id, attempt_id) \
         SELECT workspace, campaign, phone, decode(order_id, 'hex'), attempt_id \
         FROM campaignctl.numbers_format_1 ORDER BY workspace, campaign, phone",
        &[],
    )?;
    tx.batch_execute(
        "DROP TABLE campaignctl.numbers_format_1; UPDATE campaignctl.format SET version = 2",
    )?;
    Ok(Ok(()))
}

/// Format 2 to 3, for every workspace, inside the caller's transaction: the orderIDs are no
/// longer stored. Every row is proven first (its orderID the derived one, each live attempt's
/// rows matching the check value recorded with its intent); then the check values are made
/// again over the numbers alone. The column is dropped in place (PostgreSQL frees its space
/// as rows are rewritten, or at `VACUUM FULL`).
fn upgrade_2_to_3(tx: &mut Transaction) -> Result<Result<(), String>, postgres::Error> {
    let mut recheck = super::digest::Recheck::<(String, i64)>::new();
    let rows = tx.query(
        "SELECT workspace, attempt_id, campaign, order_id, phone FROM campaignctl.numbers",
        &[],
    )?;
    for row in &rows {
        let campaign: String = row.try_get(2)?;
        let attempt = (row.try_get(0)?, row.try_get(1)?);
        if let Err(reason) = recheck.add(attempt, &campaign, order_id_of(row, 3), row.try_get(4)?) {
            return Ok(Err(reason));
        }
    }
    drop(rows);
    let live = tx.query(
        "SELECT workspace, id, campaign, task_name, number_count, digest \
         FROM campaignctl.attempts WHERE status <> 'rejected'",
        &[],
    )?;
    for row in &live {
        let attempt = (row.try_get(0)?, row.try_get(1)?);
        let shown = format!(
            "{}/{:?}",
            row.try_get::<_, String>(2)?,
            row.try_get::<_, String>(3)?
        );
        if let Err(reason) = recheck.verify(&attempt, row.try_get(4)?, row.try_get(5)?, &shown) {
            return Ok(Err(reason));
        }
    }
    let checks = match recheck.finish() {
        Ok(checks) => checks,
        Err(reason) => return Ok(Err(reason)),
    };
    let mut workspaces = Vec::new();
    let mut ids = Vec::new();
    let mut digests = Vec::new();
    for ((workspace, id), check) in checks {
        workspaces.push(workspace);
        ids.push(id);
        digests.push(check.value());
    }
    tx.execute(
        "UPDATE campaignctl.attempts AS a SET digest = d.digest \
         FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS d (workspace, id, digest) \
         WHERE a.workspace = d.workspace AND a.id = d.id",
        &[&workspaces, &ids, &digests],
    )?;
    tx.batch_execute(
        "ALTER TABLE campaignctl.numbers DROP COLUMN order_id; \
         UPDATE campaignctl.format SET version = 3",
    )?;
    Ok(Ok(()))
}

/// Who this connection is, as `state lock` and a refused apply show it.
fn application_name() -> String {
    let me = LockInfo::of_this_process();
    let mut name = format!("campaignctl process {} on {}", me.pid, me.host);
    name.truncate(63);
    name
}

/// TLS as libpq's `sslmode=prefer` and `require` do it: the connection is encrypted, the
/// server's certificate is not checked against an authority (PostgreSQL servers commonly run on
/// self-signed certificates; libpq checks only with `verify-ca`/`verify-full`, which the driver
/// does not offer). The handshake's signatures are still verified.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(EncryptOnly(provider.clone()));
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("cannot set up TLS: {err}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

#[derive(Debug)]
struct EncryptOnly(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// An error's text with its causes: the driver's top line alone ("db error") says little.
fn describe(err: &postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    super::pg_url::with_causes(err)
}

/// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
fn transaction<T>(
    client: &mut Client,
    f: impl FnOnce(&mut Transaction) -> Result<T, postgres::Error>,
) -> Result<T, postgres::Error> {
    let mut tx = client.transaction()?;
    let value = f(&mut tx)?;
    tx.commit()?;
    Ok(value)
}

/// One write of a batch, under its own savepoint: the journal line's attempt and detail and
/// the answer, or `None` when there is nothing to change. `next` is the id a new attempt gets.
fn write_one(
    tx: &mut Transaction,
    workspace: &str,
    write: &Write,
    next: i64,
    now: &str,
) -> Result<Option<(i64, String, Written)>, postgres::Error> {
    let update = match write {
        Write::Intent(intent) => return record_intent(tx, workspace, intent, next, now),
        Write::Update(update) => update,
    };
    let done = match update {
        Update::Outcome {
            attempt_id,
            outcome,
        } => {
            tx.execute(
                "UPDATE campaignctl.attempts SET status = $3, req_id = $4, code = $5, \
                 message = $6, updated_at = $7 WHERE workspace = $1 AND id = $2",
                &[
                    &workspace,
                    attempt_id,
                    &outcome.status.as_str(),
                    &outcome.req_id,
                    &outcome.code,
                    &outcome.message,
                    &now,
                ],
            )?;
            if !outcome.status.is_live() {
                tx.execute(
                    &format!("DELETE FROM campaignctl.numbers {OF_ATTEMPT}"),
                    &[&workspace, attempt_id],
                )?;
            }
            Some((*attempt_id, outcome.status.as_str().to_owned()))
        }
        Update::Forget {
            attempt_id,
            campaign,
            base_name,
        } => {
            tx.execute(
                "UPDATE campaignctl.attempts SET forgotten = TRUE, updated_at = $4 \
                 WHERE workspace = $1 AND campaign = $2 AND base_name = $3",
                &[&workspace, campaign, base_name, &now],
            )?;
            Some((*attempt_id, String::new()))
        }
        Update::Reconciled {
            attempt_id,
            summary,
            evidence,
        } => {
            let changed = tx.execute(
                "UPDATE campaignctl.attempts SET status = 'created', message = $3, \
                 updated_at = $4 WHERE workspace = $1 AND id = $2 \
                 AND status IN ('sending', 'in-doubt')",
                &[&workspace, attempt_id, summary, &now],
            )?;
            (changed == 1).then(|| (*attempt_id, evidence.clone()))
        }
    };
    Ok(done.map(|(attempt_id, detail)| (attempt_id, detail, Written::Update(true))))
}

fn record_intent(
    tx: &mut Transaction,
    workspace: &str,
    intent: &Intent,
    id: i64,
    now: &str,
) -> Result<Option<(i64, String, Written)>, postgres::Error> {
    tx.execute(
        "INSERT INTO campaignctl.attempts (workspace, id, campaign, base_name, \
         task_name, settings, status, number_count, created_at, updated_at, digest) \
         VALUES ($1, $2, $3, $4, $5, $6, 'sending', $7, $8, $8, $9)",
        &[
            &workspace,
            &id,
            &intent.campaign,
            &intent.base_name,
            &intent.task_name,
            &intent.settings,
            &(intent.numbers.len() as i64),
            &now,
            &intent.digest,
        ],
    )?;
    // One statement for all the numbers: a row at a time would be a round trip each.
    tx.execute(
        "INSERT INTO campaignctl.numbers (workspace, campaign, phone, attempt_id) \
         SELECT $1, $2, p, $3 FROM unnest($4::bigint[]) AS n (p)",
        &[&workspace, &intent.campaign, &id, &intent.numbers],
    )?;
    let detail = format!("{} numbers", intent.numbers.len());
    Ok(Some((id, detail, Written::Intent(Some(id)))))
}

fn journal(
    tx: &mut Transaction,
    workspace: &str,
    attempt_id: i64,
    event: &str,
    detail: &str,
) -> Result<(), postgres::Error> {
    tx.execute(
        "INSERT INTO campaignctl.journal (workspace, at, attempt_id, event, detail) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &workspace,
            &crate::clock::now(),
            &attempt_id,
            &event,
            &detail,
        ],
    )
    .map(drop)
}

fn attempt_of(row: &postgres::Row) -> Result<AttemptRow, postgres::Error> {
    Ok(AttemptRow {
        id: row.try_get(0)?,
        campaign: row.try_get(1)?,
        base_name: row.try_get(2)?,
        task_name: row.try_get(3)?,
        settings: row.try_get(4)?,
        status: row.try_get(5)?,
        number_count: row.try_get(6)?,
        req_id: row.try_get(7)?,
        code: row.try_get(8)?,
        message: row.try_get(9)?,
        forgotten: row.try_get(10)?,
        created_at: row.try_get(11)?,
        updated_at: row.try_get(12)?,
        digest: row.try_get(13)?,
    })
}

fn number_of(row: &postgres::Row) -> Result<NumberRow, postgres::Error> {
    Ok(NumberRow {
        attempt_id: row.try_get(0)?,
        campaign: row.try_get(1)?,
        phone: row.try_get(2)?,
    })
}

/// The orderID of format 2 in column `index`. A value that is not 16 bytes (damage) reads as
/// 0, which is no number's orderID, so the upgrade refuses it.
fn order_id_of(row: &postgres::Row, index: usize) -> u128 {
    row.try_get::<_, &[u8]>(index)
        .ok()
        .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
        .map_or(0, u128::from_be_bytes)
}

const NUMBER_SELECT: &str = "SELECT attempt_id, campaign, phone FROM campaignctl.numbers";

fn read_identity(
    client: &mut impl postgres::GenericClient,
    workspace: &str,
) -> Result<StateIdentity, postgres::Error> {
    let row = client.query_one(
        "SELECT id, version FROM campaignctl.workspaces WHERE name = $1",
        &[&workspace],
    )?;
    Ok(StateIdentity {
        id: row.try_get(0)?,
        version: row.try_get(1)?,
    })
}

fn is_unique_violation(err: &postgres::Error) -> bool {
    err.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

impl Backend for PgBackend {
    fn location(&self) -> String {
        self.url.to_string()
    }

    fn identity(&mut self) -> Result<StateIdentity, StateError> {
        let workspace = self.workspace();
        self.call(move |client| read_identity(client, &workspace))
    }

    fn plan_key(&mut self) -> Result<Vec<u8>, StateError> {
        let workspace = self.workspace();
        self.call(move |client| {
            let row = client.query_one(
                "SELECT plan_key FROM campaignctl.workspaces WHERE name = $1",
                &[&workspace],
            )?;
            Ok(row.try_get::<_, String>(0)?.into_bytes())
        })
    }

    fn read(&mut self, campaigns: &[String]) -> Result<RawRead, StateError> {
        let workspace = self.workspace();
        let campaigns = campaigns.to_vec();
        self.call(move |client| {
            let mut tx = client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let identity = read_identity(&mut tx, &workspace)?;
            let attempts = tx
                .query(
                    &format!(
                        "{ATTEMPT_SELECT} WHERE workspace = $1 AND campaign = ANY($2) ORDER BY id"
                    ),
                    &[&workspace, &campaigns],
                )?
                .iter()
                .map(attempt_of)
                .collect::<Result<_, _>>()?;
            let mut numbers: Vec<(String, Vec<SentNumber>)> = Vec::new();
            for campaign in campaigns {
                let sent = tx
                    .query(
                        "SELECT attempt_id, phone FROM campaignctl.numbers \
                         WHERE workspace = $1 AND campaign = $2",
                        &[&workspace, &campaign],
                    )?
                    .iter()
                    .map(|row| {
                        Ok(SentNumber {
                            attempt_id: row.try_get(0)?,
                            phone: row.try_get(1)?,
                        })
                    })
                    .collect::<Result<_, postgres::Error>>()?;
                numbers.push((campaign, sent));
            }
            tx.commit()?;
            Ok(RawRead {
                identity,
                attempts,
                numbers,
            })
        })
    }

    fn attempts(&mut self) -> Result<Vec<AttemptRow>, StateError> {
        let workspace = self.workspace();
        self.call(move |client| {
            let rows = client.query(
                &format!("{ATTEMPT_SELECT} WHERE workspace = $1 ORDER BY id"),
                &[&workspace],
            )?;
            rows.iter().map(attempt_of).collect()
        })
    }

    fn find(&mut self, campaign: &str, task_name: &str) -> Result<Option<AttemptRow>, StateError> {
        let workspace = self.workspace();
        let (campaign, task_name) = (campaign.to_owned(), task_name.to_owned());
        self.call(move |client| {
            let row = client.query_opt(
                &format!(
                    "{ATTEMPT_SELECT} WHERE workspace = $1 AND campaign = $2 AND task_name = $3 \
                     ORDER BY status = 'rejected', id DESC LIMIT 1"
                ),
                &[&workspace, &campaign, &task_name],
            )?;
            row.as_ref().map(attempt_of).transpose()
        })
    }

    fn numbers(&mut self, attempt_id: i64) -> Result<Vec<NumberRow>, StateError> {
        let workspace = self.workspace();
        self.call(move |client| {
            let rows = client.query(
                &format!("{NUMBER_SELECT} {OF_ATTEMPT}"),
                &[&workspace, &attempt_id],
            )?;
            rows.iter().map(number_of).collect()
        })
    }

    fn write(&mut self, writes: Vec<Write>) -> Result<Vec<Written>, StateError> {
        let workspace = self.workspace();
        let now = crate::clock::now();
        self.call(move |client| {
            let mut tx = client.transaction()?;
            // Locks the workspace row: writers of one workspace take turns.
            let mut next: i64 = tx
                .query_one(
                    "UPDATE campaignctl.workspaces SET version = version + 1 WHERE name = $1 \
                     RETURNING next_attempt",
                    &[&workspace],
                )?
                .try_get(0)?;
            let mut answers = Vec::with_capacity(writes.len());
            for write in &writes {
                let mut one = tx.savepoint("one")?;
                let done = match write_one(&mut one, &workspace, write, next, &now) {
                    Ok(done) => done,
                    Err(err) if matches!(write, Write::Intent(_)) && is_unique_violation(&err) => {
                        None
                    }
                    Err(err) => return Err(err),
                };
                // A savepoint dropped without its commit is rolled back.
                let Some((attempt_id, detail, answer)) = done else {
                    answers.push(write.refused());
                    continue;
                };
                journal(&mut one, &workspace, attempt_id, write.event(), &detail)?;
                one.commit()?;
                if matches!(answer, Written::Intent(Some(_))) {
                    next += 1;
                }
                answers.push(answer);
            }
            // Nothing changed: the version bump is rolled back with the transaction.
            if answers
                .iter()
                .any(|a| *a != Written::Intent(None) && *a != Written::Update(false))
            {
                tx.execute(
                    "UPDATE campaignctl.workspaces SET next_attempt = $2 WHERE name = $1",
                    &[&workspace, &next],
                )?;
                tx.commit()?;
            }
            Ok(answers)
        })
    }

    fn sends_since(&mut self, since: &str) -> Result<HashMap<i64, u32>, StateError> {
        let workspace = self.workspace();
        let since = since.to_owned();
        self.call(move |client| {
            let rows = client.query(
                "SELECT phone, count(*) FROM campaignctl.numbers WHERE workspace = $1 \
                 AND attempt_id IN (SELECT id FROM campaignctl.attempts WHERE workspace = $1 \
                 AND created_at >= $2 AND status <> 'rejected') GROUP BY phone",
                &[&workspace, &since],
            )?;
            rows.iter()
                .map(|row| {
                    let count: i64 = row.try_get(1)?;
                    Ok((row.try_get(0)?, u32::try_from(count).unwrap_or(u32::MAX)))
                })
                .collect()
        })
    }

    fn settle_interrupted(&mut self) -> Result<usize, StateError> {
        let workspace = self.workspace();
        let now = crate::clock::now();
        self.call(move |client| {
            transaction(client, |tx| {
                let changed = tx.execute(
                    &format!(
                        "{} WHERE workspace = $2 AND status = 'sending'",
                        super::SETTLE.replace("attempts", "campaignctl.attempts")
                    ),
                    &[&now, &workspace],
                )?;
                // No version bump, as in SQLite: a plan saved after a crash must still apply.
                if changed > 0 {
                    journal(
                        tx,
                        &workspace,
                        0,
                        "settle",
                        &format!("{changed} interrupted attempts in doubt"),
                    )?;
                }
                Ok(changed as usize)
            })
        })
    }

    fn lock(&mut self) -> Result<(), StateError> {
        if self.locked {
            return Ok(());
        }
        let key = self.lock_key();
        // Waits a moment rather than failing at once: the server frees a killed holder's lock
        // only once it has seen that connection close, a few milliseconds after the kill.
        let taken = self.call(move |client| {
            client.batch_execute(&format!("SET lock_timeout = '{LOCK_WAIT_MS}ms'"))?;
            let taken = match client.execute("SELECT pg_advisory_lock($1)", &[&key]) {
                Ok(_) => true,
                Err(err) if err.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => false,
                Err(err) => return Err(err),
            };
            client.batch_execute("SET lock_timeout = 0")?;
            Ok(taken)
        })?;
        if taken {
            self.locked = true;
            return Ok(());
        }
        let holder = self
            .lock_holder()?
            .unwrap_or_else(|| "another process".to_owned());
        Err(StateError::msg(format!(
            "the state {} is locked by {holder}: another apply is running; wait for it to finish \
             (the lock is released automatically when that process ends)",
            self.url
        )))
    }

    fn lock_holder(&mut self) -> Result<Option<String>, StateError> {
        let key = self.lock_key();
        let (high, low) = ((key >> 32) & 0xffff_ffff, key & 0xffff_ffff);
        self.call(move |client| {
            let row = client.query_opt(
                "SELECT a.pid, coalesce(a.application_name, ''), \
                 coalesce(host(a.client_addr), 'a local socket'), \
                 to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
                 AND l.classid::bigint = $1 AND l.objid::bigint = $2 \
                 AND l.database = (SELECT oid FROM pg_database \
                                   WHERE datname = current_database()) LIMIT 1",
                &[&high, &low],
            )?;
            let Some(row) = row else {
                return Ok(None);
            };
            let name: String = row.try_get(1)?;
            let who = if name.is_empty() {
                "a PostgreSQL session".to_owned()
            } else {
                name
            };
            Ok(Some(format!(
                "{who} (server pid {}, from {}, connected since {})",
                row.try_get::<_, i32>(0)?,
                row.try_get::<_, String>(2)?,
                row.try_get::<_, String>(3)?
            )))
        })
    }

    fn check(&mut self) -> Result<(), StateError> {
        // The server guards its own pages; what matters here is the number guard, which the
        // snapshot checks against each attempt's check value in either backend.
        Ok(())
    }

    fn begin_run(&mut self, _holder: &LockInfo) -> Result<(), StateError> {
        // Every commit is durable on the server itself: no journal can be separated from it.
        Ok(())
    }

    fn end_run(&mut self) -> Result<(), StateError> {
        Ok(())
    }

    fn dump(&mut self) -> Result<Dump, StateError> {
        let workspace = self.workspace();
        self.call(move |client| {
            let mut tx = client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let version = read_identity(&mut tx, &workspace)?.version;
            let attempts = tx
                .query(
                    &format!("{ATTEMPT_SELECT} WHERE workspace = $1 ORDER BY id"),
                    &[&workspace],
                )?
                .iter()
                .map(attempt_of)
                .collect::<Result<_, _>>()?;
            let numbers = tx
                .query(
                    &format!("{NUMBER_SELECT} WHERE workspace = $1"),
                    &[&workspace],
                )?
                .iter()
                .map(number_of)
                .collect::<Result<_, _>>()?;
            let journal = tx
                .query(
                    "SELECT at, attempt_id, event, detail FROM campaignctl.journal \
                     WHERE workspace = $1 ORDER BY seq",
                    &[&workspace],
                )?
                .iter()
                .map(|row| {
                    Ok(JournalRow {
                        at: row.try_get(0)?,
                        attempt_id: row.try_get(1)?,
                        event: row.try_get(2)?,
                        detail: row.try_get(3)?,
                    })
                })
                .collect::<Result<_, postgres::Error>>()?;
            tx.commit()?;
            Ok(Dump {
                version,
                attempts,
                numbers,
                journal,
            })
        })
    }

    fn load(&mut self, dump: &Dump) -> Result<(), StateError> {
        let workspace = self.workspace();
        let dump = dump.clone();
        self.call(move |client| {
            transaction(client, |tx| {
                for a in &dump.attempts {
                    tx.execute(
                        "INSERT INTO campaignctl.attempts (workspace, id, campaign, base_name, \
                         task_name, settings, status, number_count, req_id, code, message, \
                         forgotten, created_at, updated_at, digest) VALUES ($1, $2, $3, $4, $5, \
                         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                        &[
                            &workspace,
                            &a.id,
                            &a.campaign,
                            &a.base_name,
                            &a.task_name,
                            &a.settings,
                            &a.status,
                            &a.number_count,
                            &a.req_id,
                            &a.code,
                            &a.message,
                            &a.forgotten,
                            &a.created_at,
                            &a.updated_at,
                            &a.digest,
                        ],
                    )?;
                }
                let campaigns: Vec<&str> =
                    dump.numbers.iter().map(|n| n.campaign.as_str()).collect();
                let attempt_ids: Vec<i64> = dump.numbers.iter().map(|n| n.attempt_id).collect();
                let phones: Vec<i64> = dump.numbers.iter().map(|n| n.phone).collect();
                tx.execute(
                    "INSERT INTO campaignctl.numbers (workspace, campaign, attempt_id, phone) \
                     SELECT $1, c, a, p FROM unnest($2::text[], $3::bigint[], $4::bigint[]) \
                     AS n (c, a, p)",
                    &[&workspace, &campaigns, &attempt_ids, &phones],
                )?;
                for j in &dump.journal {
                    tx.execute(
                        "INSERT INTO campaignctl.journal (workspace, at, attempt_id, event, \
                         detail) VALUES ($1, $2, $3, $4, $5)",
                        &[&workspace, &j.at, &j.attempt_id, &j.event, &j.detail],
                    )?;
                }
                let next = dump.attempts.iter().map(|a| a.id).max().unwrap_or(0) + 1;
                tx.execute(
                    "UPDATE campaignctl.workspaces SET version = $2, next_attempt = $3 \
                     WHERE name = $1",
                    &[&workspace, &dump.version, &next],
                )?;
                Ok(())
            })
        })
    }

    fn is_empty(&mut self) -> Result<bool, StateError> {
        let workspace = self.workspace();
        self.call(move |client| {
            let row = client.query_one(
                "SELECT count(*) FROM campaignctl.attempts WHERE workspace = $1",
                &[&workspace],
            )?;
            Ok(row.try_get::<_, i64>(0)? == 0)
        })
    }
}
