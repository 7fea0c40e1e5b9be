//! The state store: what was sent, kept so that no crash, copy or concurrent run can make a
//! number ring twice.
//!
//! Every createandcall request is an *attempt*. Its intent (the task and every number in it) is
//! committed before the request leaves; its outcome is committed when it comes back. A number
//! belongs to at most one live (not rejected) attempt per campaign, enforced by the store's
//! unique key on the E.164 number; an orderID other than the one derived from the campaign and
//! the number is refused, so one number has one orderID and the number's key guards both (and
//! the orderID is not stored at all: it is derived again where it is shown). Even a bug
//! elsewhere, a forged plan or an edited orderID cannot record the same number as sent twice.
//!
//! One interface, [`Store`], over two backends that keep exactly the same semantics: a SQLite
//! file ([`sqlite`]) and a workspace in a PostgreSQL database ([`postgres`]). Plans and applies
//! never know which one they talk to.

mod digest;
mod group;
pub mod location;
mod lock;
pub mod migrate;
mod pg_url;
mod postgres;
mod sqlite;

use std::collections::HashMap;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

pub use group::GroupCommit;
pub use location::Location;
pub use lock::LockInfo;

mod error;

use crate::nxcc::order_id::{order_id_text, order_key, parse_order_id};
use crate::nxcc::{CallItem, CreateAndCall};
pub use error::StateError;

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

    fn parse(text: &str) -> Option<Status> {
        Some(match text {
            "sending" => Status::Sending,
            "created" => Status::Created,
            "rejected" => Status::Rejected,
            "in-doubt" => Status::InDoubt,
            _ => return None,
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

/// An attempt's row as a backend reads it, before its text columns are checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AttemptRow {
    pub id: i64,
    pub campaign: String,
    pub base_name: String,
    pub task_name: String,
    pub settings: String,
    pub status: String,
    pub number_count: i64,
    pub req_id: Option<String>,
    pub code: Option<i64>,
    pub message: Option<String>,
    pub forgotten: bool,
    pub created_at: String,
    pub updated_at: String,
    /// A check value over the attempt's numbers, recorded with its intent: a stored number that
    /// changed afterwards (a flipped bit), or one gone or added, no longer matches it.
    pub digest: i64,
}

impl AttemptRow {
    /// The attempt, or an error naming what in the row is damaged: a state that cannot be read
    /// exactly must stop a plan rather than be read as "nothing sent".
    pub(crate) fn parse(&self, location: &str) -> Result<Attempt, StateError> {
        let damaged = |what: &str| {
            StateError::msg(format!(
                "state {location} is damaged: attempt {} ({}/{}) has {what}; nothing was sent \
                 (restore the state from a backup)",
                self.id, self.campaign, self.task_name
            ))
        };
        let settings = serde_json::from_str(&self.settings)
            .map_err(|_| damaged("settings that are not valid JSON"))?;
        let status = Status::parse(&self.status)
            .ok_or_else(|| damaged(&format!("an unknown status {:?}", self.status)))?;
        Ok(Attempt {
            id: self.id,
            campaign: self.campaign.clone(),
            base_name: self.base_name.clone(),
            task_name: self.task_name.clone(),
            settings,
            status,
            number_count: self.number_count,
            req_id: self.req_id.clone(),
            code: self.code,
            message: self.message.clone(),
            forgotten: self.forgotten,
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
        })
    }
}

/// One number of a live attempt, as stored. Its orderID is not stored: the store takes only
/// the one derived from the campaign and the number ([`order_key`]), so it is derived again
/// where it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NumberRow {
    pub attempt_id: i64,
    pub campaign: String,
    /// The E.164 number as an integer (digits without `+`).
    pub phone: i64,
}

/// One number of a campaign as a snapshot reads it: the campaign is known from the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SentNumber {
    pub attempt_id: i64,
    pub phone: i64,
}

/// What plans need from state about one campaign.
#[derive(Debug, Clone, Default)]
pub struct CampaignState {
    pub attempts: Vec<Attempt>,
    /// E.164 numbers (as integers) in live attempts: never to be sent again. The number alone
    /// decides: a number's orderID is always the one derived from the campaign and the number
    /// (the store refuses any other), so a set of orderIDs would only repeat this one.
    pub sent_numbers: FxHashSet<i64>,
}

impl CampaignState {
    /// Whether `item`'s number was sent in this campaign.
    pub fn is_sent(&self, item: &CallItem) -> bool {
        // A first plan of a million numbers asks a million times of an empty state: answer
        // without hashing anything.
        if self.sent_numbers.is_empty() {
            return false;
        }
        phone_key(&item.user_phone).is_some_and(|phone| self.sent_numbers.contains(&phone))
    }

    /// For each of `items`, whether it was sent: asked on all cores, since a re-plan of a
    /// million numbers waits on a million lookups in a set too large for the caches.
    pub fn sent_flags(&self, items: &[CallItem]) -> Vec<bool> {
        use rayon::prelude::*;
        if self.sent_numbers.is_empty() {
            return vec![false; items.len()];
        }
        items.par_iter().map(|item| self.is_sent(item)).collect()
    }
}

/// A consistent read of everything plans need, with the version it was read at.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub identity: StateIdentity,
    pub campaigns: HashMap<String, CampaignState>,
}

/// Which state, and which revision of it: a saved plan is only valid against the same.
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

/// An intent as a backend records it: the numbers already in their stored form, in the
/// order of the numbers' key (the E.164 integer), so they are appended to the key's b-tree
/// rather than scattered over it. Their orderIDs were checked to be the derived ones
/// (`intent_of`) and are not stored.
#[derive(Debug, Clone)]
pub(crate) struct Intent {
    pub campaign: String,
    pub base_name: String,
    pub task_name: String,
    pub settings: String,
    /// E.164 integers, sorted.
    pub numbers: Vec<i64>,
    pub digest: i64,
}

/// What one consistent read of a set of campaigns returns, before it is checked.
#[derive(Debug, Default)]
pub(crate) struct RawRead {
    pub identity: StateIdentity,
    pub attempts: Vec<AttemptRow>,
    /// Each campaign asked for, with its live numbers.
    pub numbers: Vec<(String, Vec<SentNumber>)>,
}

/// Everything a state holds, for `state migrate`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dump {
    pub version: i64,
    pub attempts: Vec<AttemptRow>,
    pub numbers: Vec<NumberRow>,
    pub journal: Vec<JournalRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JournalRow {
    pub at: String,
    pub attempt_id: i64,
    pub event: String,
    pub detail: String,
}

/// A change to one attempt, written with its journal line and a version bump in one
/// transaction by either backend.
#[derive(Debug, Clone)]
pub(crate) enum Update {
    Outcome {
        attempt_id: i64,
        outcome: Recorded,
    },
    Forget {
        attempt_id: i64,
        campaign: String,
        base_name: String,
    },
    /// An attempt still in doubt (only then) becomes created, on the provider's evidence.
    Reconciled {
        attempt_id: i64,
        summary: String,
        evidence: String,
    },
}

/// One change of a batch that a backend commits at once.
#[derive(Debug, Clone)]
pub(crate) enum Write {
    Intent(Intent),
    Update(Update),
}

/// What one [`Write`] of a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// The new attempt's id, or `None` when a unique key refused it (a number or the task name
    /// already live in the campaign); nothing of it is recorded then.
    Intent(Option<i64>),
    /// Whether the update changed anything; when not, nothing of it was written.
    Update(bool),
}

impl Write {
    /// The journal event of the write.
    fn event(&self) -> &'static str {
        match self {
            Write::Intent(_) => "intent",
            Write::Update(Update::Outcome { .. }) => "outcome",
            Write::Update(Update::Forget { .. }) => "forget",
            Write::Update(Update::Reconciled { .. }) => "reconciled",
        }
    }

    /// What the write did when nothing of it could be written.
    fn refused(&self) -> Written {
        match self {
            Write::Intent(_) => Written::Intent(None),
            Write::Update(_) => Written::Update(false),
        }
    }
}

/// What each backend provides. Kept to storage primitives: every rule (what a conflict means,
/// what may be resolved, whether the numbers read back match their check values) lives once, in
/// [`Store`].
pub(crate) trait Backend: Send {
    /// Where the state is, for messages (never with a password).
    fn location(&self) -> String;
    fn identity(&mut self) -> Result<StateIdentity, StateError>;
    fn plan_key(&mut self) -> Result<Vec<u8>, StateError>;
    /// The identity, attempts and live numbers of `campaigns`, in one consistent read.
    fn read(&mut self, campaigns: &[String]) -> Result<RawRead, StateError>;
    fn attempts(&mut self) -> Result<Vec<AttemptRow>, StateError>;
    fn find(&mut self, campaign: &str, task_name: &str) -> Result<Option<AttemptRow>, StateError>;
    fn numbers(&mut self, attempt_id: i64) -> Result<Vec<NumberRow>, StateError>;
    /// Commits `writes` in one transaction (one durable commit for all of them), each with its
    /// journal line, and the version bumped once when any changed something. A write that a
    /// unique key refuses, or that finds nothing to change, leaves no trace and does not stop
    /// the others. One answer per write, in order.
    fn write(&mut self, writes: Vec<Write>) -> Result<Vec<Written>, StateError>;
    /// How many live attempts created at or after `since` hold each number, in any campaign.
    fn sends_since(&mut self, since: &str) -> Result<HashMap<i64, u32>, StateError>;
    /// Marks every `sending` attempt in doubt; how many there were.
    fn settle_interrupted(&mut self) -> Result<usize, StateError>;
    /// Takes the apply lock (held until the store is dropped), or says who holds it.
    fn lock(&mut self) -> Result<(), StateError>;
    /// Who holds the apply lock now, if anyone.
    fn lock_holder(&mut self) -> Result<Option<String>, StateError>;
    /// Checks the stored data before an apply may trust it.
    fn check(&mut self) -> Result<(), StateError>;
    /// Called under the lock just before the first request of an apply leaves.
    fn begin_run(&mut self, holder: &LockInfo) -> Result<(), StateError>;
    /// Called when an apply's requests are all answered and recorded.
    fn end_run(&mut self) -> Result<(), StateError>;
    fn dump(&mut self) -> Result<Dump, StateError>;
    /// Loads `dump` into this (empty) state, in one transaction.
    fn load(&mut self, dump: &Dump) -> Result<(), StateError>;
    /// Whether anything was ever recorded here.
    fn is_empty(&mut self) -> Result<bool, StateError>;
}

/// The open state, whichever backend keeps it.
pub struct Store {
    backend: Box<dyn Backend>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.backend.location())
            .finish()
    }
}

impl Store {
    /// Opens the state at `location`. A SQLite path that does not exist is created; anything
    /// else must already be a campaignctl state (a PostgreSQL workspace is created in its
    /// database on first use).
    pub fn open(location: &Location) -> Result<Store, StateError> {
        Store::open_with(location, true)
    }

    /// Opens an existing state for reading and repair, without creating one.
    pub fn open_existing(location: &Location) -> Result<Store, StateError> {
        if let Location::Sqlite(path) = location
            && !path.exists()
        {
            return Err(StateError::msg(format!(
                "no state file at {}: nothing was applied yet (or pass --state PATH|URL)",
                path.display()
            )));
        }
        Store::open_with(location, false)
    }

    fn open_with(location: &Location, create: bool) -> Result<Store, StateError> {
        let backend: Box<dyn Backend> = match location {
            Location::Sqlite(path) => Box::new(sqlite::SqliteBackend::open(path)?),
            Location::Postgres(url) => Box::new(postgres::PgBackend::open(url, create)?),
        };
        Ok(Store { backend })
    }

    /// Where the state is, for messages (a URL's password masked).
    pub fn location(&self) -> String {
        self.backend.location()
    }

    /// The state's identity and current version.
    pub fn identity(&mut self) -> Result<StateIdentity, StateError> {
        self.backend.identity()
    }

    /// The key that seals saved plans made against this state, so an edited plan file, or one
    /// made against another state, is refused.
    pub fn plan_key(&mut self) -> Result<Vec<u8>, StateError> {
        self.backend.plan_key()
    }

    /// Takes the apply lock for as long as the store is open, or says who holds it.
    pub fn lock(&mut self) -> Result<(), StateError> {
        self.backend.lock()
    }

    /// Who holds the apply lock, if anyone.
    pub fn lock_holder(&mut self) -> Result<Option<String>, StateError> {
        self.backend.lock_holder()
    }

    /// Takes the lock and readies the state for an apply: checks it for damage and marks what
    /// an earlier, interrupted apply left `sending` as in doubt. Returns how many were.
    pub fn prepare_apply(&mut self) -> Result<usize, StateError> {
        self.backend.lock()?;
        self.backend.check()?;
        self.settle_interrupted()
    }

    /// Records that an apply starts sending; [`Store::end_run`] closes it.
    pub fn begin_run(&mut self) -> Result<(), StateError> {
        self.backend.begin_run(&LockInfo::of_this_process())
    }

    /// Closes the run: everything it sent is recorded, and at rest.
    pub fn end_run(&mut self) -> Result<(), StateError> {
        self.backend.end_run()
    }

    /// Everything plans need about `campaigns`, read in one transaction. Refuses a state whose
    /// numbers no longer match the check values recorded with their intents.
    pub fn snapshot<'a>(
        &mut self,
        campaigns: impl IntoIterator<Item = &'a str>,
    ) -> Result<Snapshot, StateError> {
        let names: Vec<String> = campaigns.into_iter().map(str::to_owned).collect();
        let raw = self.backend.read(&names)?;
        let location = self.backend.location();
        let mut snapshot = Snapshot {
            identity: raw.identity,
            campaigns: names
                .iter()
                .map(|name| (name.clone(), CampaignState::default()))
                .collect(),
        };
        let mut checks: HashMap<i64, digest::Check> = HashMap::new();
        for (campaign, numbers) in raw.numbers {
            let (sent, by_attempt) = sent_of(&numbers);
            for (attempt_id, check) in by_attempt {
                checks.entry(attempt_id).or_default().merge(check);
            }
            let state = snapshot.campaigns.entry(campaign).or_default();
            state.sent_numbers = sent;
        }
        let mut rows = raw.attempts;
        rows.sort_by_key(|row| row.id);
        for row in rows {
            let attempt = row.parse(&location)?;
            if attempt.status.is_live() {
                let check = checks.remove(&attempt.id).unwrap_or_default();
                verify(&location, &attempt, row.digest, &check)?;
            }
            snapshot
                .campaigns
                .entry(attempt.campaign.clone())
                .or_default()
                .attempts
                .push(attempt);
        }
        if let Some(orphan) = checks.keys().next() {
            return Err(damaged(
                &location,
                &format!("numbers belong to attempt {orphan}, which is not live"),
            ));
        }
        Ok(snapshot)
    }

    /// Every attempt, oldest first.
    pub fn attempts(&mut self) -> Result<Vec<Attempt>, StateError> {
        let location = self.backend.location();
        self.backend
            .attempts()?
            .into_iter()
            .map(|row| row.parse(&location))
            .collect()
    }

    /// The live attempt named `campaign`/`task_name`, else the latest rejected one.
    pub fn find(&mut self, campaign: &str, task_name: &str) -> Result<Option<Attempt>, StateError> {
        let location = self.backend.location();
        self.backend
            .find(campaign, task_name)?
            .map(|row| row.parse(&location))
            .transpose()
    }

    /// The orderIDs and numbers (E.164 digits) of an attempt (live attempts only keep them).
    pub fn numbers(&mut self, attempt_id: i64) -> Result<Vec<(String, String)>, StateError> {
        let mut numbers: Vec<(String, String)> = self
            .backend
            .numbers(attempt_id)?
            .into_iter()
            .map(|n| {
                let phone = n.phone.to_string();
                (order_id_text(order_key(&n.campaign, &phone)), phone)
            })
            .collect();
        numbers.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(numbers)
    }

    /// How many live (not rejected) attempts, in any campaign of this state, created at or
    /// after `since` (RFC 3339 UTC as `crate::clock::format` writes it; attempts' created_at is
    /// that format) hold each number. Keyed by the E.164 integer (`phone_key`).
    pub fn sends_since(&mut self, since: &str) -> Result<HashMap<i64, u32>, StateError> {
        self.backend.sends_since(since)
    }

    /// Commits one write on its own.
    fn write_one(&mut self, write: Write) -> Result<Written, StateError> {
        let refused = write.refused();
        let written = self.backend.write(vec![write])?;
        Ok(written.into_iter().next().unwrap_or(refused))
    }

    /// Durably records that `body` is about to be sent for `campaign`/`base_name`, before a
    /// single byte leaves. Fails, recording nothing, when any of its numbers (by orderID or by
    /// the number itself) is already sent in the campaign or its name is taken: the last line
    /// of defence against dialing twice.
    pub fn record_intent(
        &mut self,
        campaign: &str,
        base_name: &str,
        body: &CreateAndCall,
    ) -> Result<i64, StateError> {
        let intent = intent_of(campaign, base_name, body)?;
        let written = self.write_one(Write::Intent(intent))?;
        intent_answer(written, campaign, &body.task_name)
    }

    /// Records how the attempt `attempt_id` ended.
    pub fn record_outcome(
        &mut self,
        attempt_id: i64,
        outcome: &Recorded,
    ) -> Result<(), StateError> {
        self.write_one(Write::Update(Update::Outcome {
            attempt_id,
            outcome: outcome.clone(),
        }))
        .map(drop)
    }

    /// A person's decision on an attempt in doubt: it was created, or it was not.
    pub fn resolve(&mut self, attempt: &Attempt, created: bool) -> Result<(), StateError> {
        if !attempt.status.is_in_doubt() {
            return Err(StateError::msg(format!(
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
    pub fn forget(&mut self, attempt: &Attempt) -> Result<(), StateError> {
        if attempt.status.is_in_doubt() {
            return Err(StateError::msg(format!(
                "{}/{} is in doubt; resolve it first with `campaignctl state resolve`",
                attempt.campaign, attempt.task_name
            )));
        }
        self.write_one(Write::Update(Update::Forget {
            attempt_id: attempt.id,
            campaign: attempt.campaign.clone(),
            base_name: attempt.base_name.clone(),
        }))
        .map(drop)
    }

    /// Marks every attempt still `sending` as in doubt: run when an apply starts, since the
    /// lock proves no other apply is sending, so those are left from a crash.
    pub fn settle_interrupted(&mut self) -> Result<usize, StateError> {
        self.backend.settle_interrupted()
    }

    /// Settles an attempt in doubt as created because the provider's own call records show it
    /// dialed: `summary` becomes its message (what `state show` prints), `evidence` (JSON) the
    /// detail of a `reconciled` journal event. Its numbers stay sent.
    pub fn resolve_created_with_evidence(
        &mut self,
        attempt: &Attempt,
        summary: &str,
        evidence: &str,
    ) -> Result<(), StateError> {
        let written = self.write_one(Write::Update(Update::Reconciled {
            attempt_id: attempt.id,
            summary: summary.to_owned(),
            evidence: evidence.to_owned(),
        }))?;
        if written == Written::Update(true) {
            return Ok(());
        }
        // Decided meanwhile (`attempt` was read before the provider was asked, which takes a
        // while): say how it stands now.
        let now = self
            .find(&attempt.campaign, &attempt.task_name)?
            .filter(|found| found.id == attempt.id)
            .map_or("gone", |found| found.status.as_str());
        Err(StateError::msg(format!(
            "{}/{} is {now}, no longer in doubt; it was left as it is",
            attempt.campaign, attempt.task_name
        )))
    }
}

/// The attempt id of a committed intent, or the refusal of one a unique key stopped.
fn intent_answer(written: Written, campaign: &str, task_name: &str) -> Result<i64, StateError> {
    match written {
        Written::Intent(Some(id)) => Ok(id),
        _ => Err(StateError::msg(format!(
            "refusing to send {campaign}/{task_name}: state already holds that task name or one \
             of its numbers as sent; nothing was sent (run `campaignctl plan` again)"
        ))),
    }
}

/// The set of one campaign's stored numbers, and the check value of each attempt's, built side
/// by side: a re-plan of a campaign with a million numbers sent reads all of them.
fn sent_of(numbers: &[SentNumber]) -> (FxHashSet<i64>, HashMap<i64, digest::Check>) {
    let phones = || numbers.iter().map(|n| n.phone).collect::<FxHashSet<i64>>();
    let checks = || {
        let mut checks: HashMap<i64, digest::Check> = HashMap::new();
        for n in numbers {
            checks.entry(n.attempt_id).or_default().add(n.phone);
        }
        checks
    };
    rayon::join(phones, checks)
}

/// The statement that marks interrupted attempts in doubt (the caller adds its WHERE).
const SETTLE: &str = "UPDATE attempts SET status = 'in-doubt', message = \
    'interrupted while sending (the process stopped before the answer was recorded)', \
    updated_at = $1";

/// The message for a state written by a newer campaignctl.
fn newer(location: &str, format: i64, supported: i64) -> StateError {
    StateError::msg(format!(
        "{location} was written by a newer campaignctl (state format {format}; this one reads up \
         to {supported}); upgrade campaignctl, the state was left untouched"
    ))
}

/// The message of a state that no longer matches what was recorded.
fn damaged(location: &str, what: &str) -> StateError {
    StateError::msg(format!(
        "state {location} is damaged: {what}; nothing was sent. Restore the state from a \
         backup (or the copy it was made from) before planning again"
    ))
}

/// Refuses an attempt whose stored numbers differ from those its intent recorded.
fn verify(
    location: &str,
    attempt: &Attempt,
    digest: i64,
    check: &digest::Check,
) -> Result<(), StateError> {
    if check.count() != attempt.number_count || check.value() != digest {
        return Err(damaged(
            location,
            &format!(
                "the numbers of {}/\"{}\" no longer match what was recorded when it was sent \
                 ({} of {} numbers read back, check value {})",
                attempt.campaign,
                attempt.task_name,
                check.count(),
                attempt.number_count,
                if check.value() == digest {
                    "matches"
                } else {
                    "differs"
                }
            ),
        ));
    }
    Ok(())
}

/// The intent of `body`, its numbers in stored form. Refuses an orderID that is not the one
/// campaignctl derives from the campaign and the number: so one number has one orderID, and the
/// store's unique key on the number is a unique key on the orderID as well.
fn intent_of(campaign: &str, base_name: &str, body: &CreateAndCall) -> Result<Intent, StateError> {
    let refuse = |why: String| {
        StateError::msg(format!(
            "refusing to send {campaign}/{}: {why}; nothing was sent",
            body.task_name
        ))
    };
    let mut check = digest::Check::default();
    let mut numbers = body
        .call_list
        .iter()
        .map(|item| {
            let phone = phone_key(&item.user_phone).ok_or_else(|| {
                refuse(format!(
                    "{:?} is not an E.164 number in digits",
                    item.user_phone
                ))
            })?;
            let key = order_key(campaign, &item.user_phone);
            if parse_order_id(&item.order_id) != Some(key) {
                return Err(refuse(format!(
                    "the orderID {:?} is not the one campaignctl gives that number in this \
                     campaign",
                    item.order_id
                )));
            }
            check.add(phone);
            Ok(phone)
        })
        .collect::<Result<Vec<_>, StateError>>()?;
    numbers.sort_unstable();
    Ok(Intent {
        campaign: campaign.to_owned(),
        base_name: base_name.to_owned(),
        task_name: body.task_name.clone(),
        settings: settings_of(body).to_string(),
        numbers,
        digest: check.value(),
    })
}

/// The stored form of an E.164 number in digits (`447700900123`): an integer, so that a number
/// written two ways is still one key. `None` for anything that is not 1 to 15 digits without a
/// leading zero.
pub fn phone_key(digits: &str) -> Option<i64> {
    let valid = (1..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    valid.then(|| digits.parse().ok()).flatten()
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

/// A fresh random state id and plan key, for a new state.
pub(crate) fn new_identity() -> (String, String) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let plan_key = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    (id, plan_key)
}

#[cfg(test)]
mod tests;
