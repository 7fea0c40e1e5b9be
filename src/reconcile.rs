//! Settling tasks in doubt from the provider's own call records.
//!
//! A call record naming one of an attempt's orderIDs, with a task id and a start time inside the
//! attempt's window, proves that the provider created the task: calls exist only for created
//! tasks. The absence of records proves nothing (a manual-start task never dials, a created task
//! may not have dialed yet), so nothing is ever settled as not created here.
//!
//! Every query is made before anything is written: a failed query ends the search with an error
//! and state is left exactly as it was.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use crate::apply::Pacer;
use crate::nxcc::Client;
use crate::nxcc::records::{
    CallRecord, DIRECTION_AI, MAX_PAGE_SIZE, OrderIdQuery, PageQuery, RecordsError,
};
use crate::state::{Attempt, Store};

/// Allowed difference between our clock and the provider's, as for a request's `ts`: a call
/// may be stamped this much before the intent was recorded.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// How long after a request its calls are looked for, by default.
pub const DEFAULT_SEARCH_HOURS: u32 = 72;
/// Pages of `cdr/page` read at most in one run, by default.
pub const DEFAULT_MAX_PAGES: u32 = 1_000;
/// orderIDs of one task queried at most with `cdr/queryByOrderId`, by default.
pub const DEFAULT_PER_TASK: usize = 20;
/// Queries per second at most, by default: the provider documents no limit.
pub const DEFAULT_RATE: f64 = 5.0;

/// Why reconciling could not finish. State is unchanged whenever one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(
        "the per-orderID query (cdr/queryByOrderId) needs the account's tenant id: pass \
         --tenant-id N or set NXCC_TENANT_ID (or search by time window with --query page); \
         nothing was changed"
    )]
    MissingTenant,

    #[error(
        "cdr/page: more than {max_pages} pages of call records between {from} and {to}; nothing \
         was changed (raise --max-pages, narrow --search-hours, or query orderID by orderID \
         with --tenant-id)"
    )]
    PageLimit {
        max_pages: u32,
        from: String,
        to: String,
    },

    #[error("{0}; nothing was changed")]
    Records(#[from] RecordsError),

    #[error("state holds an unreadable time {time:?} for {task}; nothing was changed")]
    UnreadableTime { time: String, task: String },

    #[error(transparent)]
    State(#[from] crate::state::StateError),
}

/// How records are looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Page through `cdr/page` over the attempts' time windows.
    Page,
    /// Ask `cdr/queryByOrderId` for a sample of each attempt's orderIDs.
    OrderId { tenant_id: u64 },
}

/// Which query was asked for on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    Page,
    OrderId,
}

impl Strategy {
    /// The per-orderID query when a tenant id is known, unless the time window is asked for.
    pub fn choose(
        asked: Option<QueryKind>,
        tenant_id: Option<u64>,
    ) -> Result<Strategy, ReconcileError> {
        match (asked, tenant_id) {
            (Some(QueryKind::Page), _) | (None, None) => Ok(Strategy::Page),
            (_, Some(tenant_id)) => Ok(Strategy::OrderId { tenant_id }),
            (Some(QueryKind::OrderId), None) => Err(ReconcileError::MissingTenant),
        }
    }

    /// The provider API it queries.
    pub fn api(self) -> &'static str {
        match self {
            Strategy::Page => "cdr/page",
            Strategy::OrderId { .. } => "cdr/queryByOrderId",
        }
    }
}

/// Bounds on how much is asked of the provider.
#[derive(Debug, Clone)]
pub struct Limits {
    pub search_hours: u32,
    pub max_pages: u32,
    pub per_task: usize,
    /// Queries per second at most; 0 for no limit.
    pub rate: f64,
}

/// Seconds since the epoch, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start: i64,
    pub end: i64,
}

impl Window {
    /// From just before the intent was recorded to `search_hours` later, or to just after now
    /// if that is sooner: the provider's clock may be behind ours or ahead of it.
    pub fn after(sent_at: i64, now: i64, search_hours: u32) -> Window {
        Window {
            start: sent_at - CLOCK_SKEW_SECS,
            end: (now + CLOCK_SKEW_SECS).min(sent_at + i64::from(search_hours) * 3600),
        }
    }

    fn contains(self, at: i64) -> bool {
        (self.start..=self.end).contains(&at)
    }
}

/// Overlapping or touching windows joined, in time order: each stretch of time is paged once.
pub fn merge(windows: impl IntoIterator<Item = Window>) -> Vec<Window> {
    let mut windows: Vec<Window> = windows.into_iter().filter(|w| w.start <= w.end).collect();
    windows.sort_by_key(|w| w.start);
    let mut merged: Vec<Window> = Vec::new();
    for window in windows {
        match merged.last_mut() {
            Some(last) if window.start <= last.end + 1 => last.end = last.end.max(window.end),
            _ => merged.push(window),
        }
    }
    merged
}

/// An attempt in doubt, and what a record must match to prove it was created.
#[derive(Debug, Clone)]
pub struct Suspect {
    pub attempt: Attempt,
    /// Sorted, so a sample is the same on every run.
    pub order_ids: Vec<String>,
    pub window: Window,
}

impl Suspect {
    /// Every attempt of `attempts` in doubt, with its orderIDs from `store`.
    pub fn gather(
        store: &mut Store,
        attempts: Vec<Attempt>,
        now: i64,
        search_hours: u32,
    ) -> Result<Vec<Suspect>, ReconcileError> {
        attempts
            .into_iter()
            .filter(|attempt| attempt.status.is_in_doubt())
            .map(|attempt| {
                let mut order_ids: Vec<String> = store
                    .numbers(attempt.id)?
                    .into_iter()
                    .map(|(order_id, _)| order_id)
                    .collect();
                order_ids.sort();
                let sent_at = unix_seconds(&attempt.created_at).ok_or_else(|| {
                    ReconcileError::UnreadableTime {
                        time: attempt.created_at.clone(),
                        task: format!("{}/{}", attempt.campaign, attempt.task_name),
                    }
                })?;
                let window = Window::after(sent_at, now, search_hours);
                Ok(Suspect {
                    attempt,
                    order_ids,
                    window,
                })
            })
            .collect()
    }

    /// Whether `record` proves this attempt's task was created.
    pub fn proven_by(&self, record: &CallRecord) -> bool {
        let ours = record
            .order_id
            .as_ref()
            .is_some_and(|id| self.order_ids.binary_search(id).is_ok());
        let of_a_task = record.task_id.as_ref().is_some_and(|id| !id.is_empty());
        let in_time = record.start_time.is_some_and(|at| self.window.contains(at));
        ours && of_a_task && in_time
    }

    /// At most `n` orderIDs spread evenly over the sorted list, the first included.
    pub fn sample(&self, n: usize) -> Vec<&str> {
        let len = self.order_ids.len();
        let n = n.min(len);
        (0..n)
            .map(|i| self.order_ids[i * len / n].as_str())
            .collect()
    }
}

/// The record that settles an attempt, and where it came from; kept in state as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// The API that answered it.
    pub api: &'static str,
    /// That answer's request id.
    pub req_id: Option<String>,
    pub order_id: String,
    pub task_id: String,
    pub start_time: i64,
    /// The record as the provider gave it.
    pub record: Value,
}

impl Evidence {
    fn of(api: &'static str, req_id: Option<&str>, record: &CallRecord) -> Option<Evidence> {
        Some(Evidence {
            api,
            req_id: req_id.map(str::to_owned),
            order_id: record.order_id.clone()?,
            task_id: record.task_id.clone()?,
            start_time: record.start_time?,
            record: record.raw.clone(),
        })
    }

    /// One line for the attempt's message, which `state show` prints.
    pub fn summary(&self) -> String {
        format!(
            "created, as the provider's call records show: {}",
            self.describe()
        )
    }

    /// Which call proves it, and where that was read.
    pub fn describe(&self) -> String {
        let req = self
            .req_id
            .as_ref()
            .map(|id| format!(" reqId {id}"))
            .unwrap_or_default();
        format!(
            "orderID {} was called in its task {} at {} ({}{req})",
            self.order_id,
            self.task_id,
            rfc3339(self.start_time),
            self.api
        )
    }
}

/// What the search found for one attempt.
#[derive(Debug, Clone)]
pub struct Finding {
    pub suspect: Suspect,
    /// `None`: no record proves anything, and the attempt stays in doubt.
    pub evidence: Option<Evidence>,
    /// orderIDs asked about one by one (per-orderID query only).
    pub queried: usize,
}

/// Told as queries go out; the command line shows it on a terminal.
pub trait Progress: Sync {
    fn query(&self, description: &str);
}

/// Looks for call records proving each suspect, within `limits`. Either every query succeeds
/// and each suspect gets its finding, or the first failure is returned.
pub async fn search(
    client: &Client,
    suspects: Vec<Suspect>,
    strategy: Strategy,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<Vec<Finding>, ReconcileError> {
    let pacer = Pacer::new(limits.rate);
    let mut findings: Vec<Finding> = suspects
        .into_iter()
        .map(|suspect| Finding {
            suspect,
            evidence: None,
            queried: 0,
        })
        .collect();
    match strategy {
        Strategy::Page => page_through(client, &mut findings, limits, &pacer, progress).await?,
        Strategy::OrderId { tenant_id } => {
            for finding in &mut findings {
                query_each(client, finding, tenant_id, limits, &pacer, progress).await?;
            }
        }
    }
    Ok(findings)
}

async fn page_through(
    client: &Client,
    findings: &mut [Finding],
    limits: &Limits,
    pacer: &Pacer,
    progress: &dyn Progress,
) -> Result<(), ReconcileError> {
    let owner: HashMap<&str, usize> = findings
        .iter()
        .enumerate()
        .flat_map(|(i, f)| f.suspect.order_ids.iter().map(move |id| (id.as_str(), i)))
        .collect();
    let mut proofs: Vec<Option<Evidence>> = vec![None; findings.len()];
    let mut pages = 0;
    for window in merge(findings.iter().map(|f| f.suspect.window)) {
        for page in 1.. {
            if pages == limits.max_pages {
                return Err(ReconcileError::PageLimit {
                    max_pages: limits.max_pages,
                    from: rfc3339(window.start),
                    to: rfc3339(window.end),
                });
            }
            pages += 1;
            pacer.wait().await;
            progress.query(&format!(
                "cdr/page {page} of {} to {}",
                rfc3339(window.start),
                rfc3339(window.end)
            ));
            let answer = client
                .cdr_page(&PageQuery {
                    start_time: window.start,
                    end_time: window.end,
                    page,
                    size: MAX_PAGE_SIZE,
                    direction: DIRECTION_AI,
                })
                .await?;
            for record in &answer.records {
                let Some(&i) = record.order_id.as_deref().and_then(|id| owner.get(id)) else {
                    continue;
                };
                if proofs[i].is_none() && findings[i].suspect.proven_by(record) {
                    proofs[i] = Evidence::of("cdr/page", answer.req_id.as_deref(), record);
                }
            }
            if is_last_page(page, answer.records.len(), answer.total) {
                break;
            }
        }
    }
    for (finding, proof) in findings.iter_mut().zip(proofs) {
        finding.evidence = proof;
    }
    Ok(())
}

/// A short page is the last; so is the page that reaches the total, when one is given.
fn is_last_page(page: u32, records: usize, total: Option<u64>) -> bool {
    let seen = u64::from(page) * u64::from(MAX_PAGE_SIZE);
    records < MAX_PAGE_SIZE as usize || total.is_some_and(|total| seen >= total)
}

async fn query_each(
    client: &Client,
    finding: &mut Finding,
    tenant_id: u64,
    limits: &Limits,
    pacer: &Pacer,
    progress: &dyn Progress,
) -> Result<(), ReconcileError> {
    let suspect = &finding.suspect;
    for order_id in suspect.sample(limits.per_task) {
        pacer.wait().await;
        progress.query(&format!(
            "cdr/queryByOrderId {order_id} ({}/{})",
            suspect.attempt.campaign, suspect.attempt.task_name
        ));
        let answer = client
            .cdr_by_order_id(&OrderIdQuery {
                tenant_id,
                order_id: order_id.to_owned(),
            })
            .await?;
        finding.queried += 1;
        let proof = answer
            .records
            .iter()
            .find(|record| suspect.proven_by(record))
            .and_then(|record| {
                Evidence::of("cdr/queryByOrderId", answer.req_id.as_deref(), record)
            });
        if proof.is_some() {
            finding.evidence = proof;
            return Ok(());
        }
    }
    Ok(())
}

/// Records every proven finding in `store` as created, with its evidence. Returns how many.
pub fn settle(store: &mut Store, findings: &[Finding]) -> Result<usize, ReconcileError> {
    let mut settled = 0;
    for finding in findings {
        let Some(evidence) = &finding.evidence else {
            continue;
        };
        let detail = serde_json::to_string(evidence).unwrap_or_default();
        store.resolve_created_with_evidence(
            &finding.suspect.attempt,
            &evidence.summary(),
            &detail,
        )?;
        settled += 1;
    }
    Ok(settled)
}

/// `2026-12-01T14:30:00Z`, or the bare number when it is out of range.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// Seconds since the epoch of an RFC 3339 time, as state writes them.
pub fn unix_seconds(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

/// The attempts named `CAMPAIGN/TASK` twice are looked for once.
pub fn distinct(attempts: Vec<Attempt>) -> Vec<Attempt> {
    let mut seen = HashSet::new();
    attempts
        .into_iter()
        .filter(|attempt| seen.insert(attempt.id))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::state::Status;

    const SENT: i64 = 1_800_000_000;

    fn attempt() -> Attempt {
        Attempt {
            id: 1,
            campaign: "c".into(),
            base_name: "t".into(),
            task_name: "t".into(),
            settings: Value::Null,
            status: Status::InDoubt,
            number_count: 3,
            req_id: None,
            code: None,
            message: None,
            forgotten: false,
            created_at: rfc3339(SENT),
            updated_at: rfc3339(SENT),
        }
    }

    fn suspect(ids: &[&str]) -> Suspect {
        Suspect {
            attempt: attempt(),
            order_ids: ids.iter().map(|id| id.to_string()).collect(),
            window: Window::after(SENT, SENT + 7200, 1),
        }
    }

    fn record(order_id: Option<&str>, task_id: Option<&str>, at: Option<i64>) -> CallRecord {
        CallRecord {
            order_id: order_id.map(str::to_owned),
            task_id: task_id.map(str::to_owned),
            start_time: at,
            raw: json!({}),
        }
    }

    #[test]
    fn the_window_allows_for_skew_and_ends_at_the_search_limit_or_now() {
        assert_eq!(
            Window::after(SENT, SENT + 10 * 3600, 2),
            Window {
                start: SENT - 60,
                end: SENT + 7200
            }
        );
        assert_eq!(Window::after(SENT, SENT + 5, 2).end, SENT + 65);
    }

    #[test]
    fn windows_merge_when_they_overlap_or_touch() {
        let w = |start, end| Window { start, end };
        assert_eq!(
            merge([w(50, 60), w(1, 10), w(11, 20), w(15, 30), w(9, 5)]),
            vec![w(1, 30), w(50, 60)]
        );
        assert!(merge([]).is_empty());
    }

    #[test]
    fn only_a_record_of_ours_with_a_task_in_the_window_is_proof() {
        let s = suspect(&["A", "B"]);
        assert!(s.proven_by(&record(Some("B"), Some("T1"), Some(SENT + 30))));
        assert!(s.proven_by(&record(Some("A"), Some("T1"), Some(SENT - 60))));
        for not_proof in [
            record(Some("C"), Some("T1"), Some(SENT)),
            record(None, Some("T1"), Some(SENT)),
            record(Some("A"), None, Some(SENT)),
            record(Some("A"), Some(""), Some(SENT)),
            record(Some("A"), Some("T1"), None),
            // An earlier task with the same orderID (resolved as not created by mistake).
            record(Some("A"), Some("T0"), Some(SENT - 61)),
            record(Some("A"), Some("T1"), Some(SENT + 3601)),
        ] {
            assert!(!s.proven_by(&not_proof), "{not_proof:?}");
        }
    }

    #[test]
    fn a_sample_is_spread_and_bounded() {
        let ids: Vec<String> = (0..10).map(|i| format!("{i:02}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let s = suspect(&refs);
        assert_eq!(s.sample(3), ["00", "03", "06"]);
        assert_eq!(s.sample(50).len(), 10);
        assert!(s.sample(0).is_empty());
        assert!(suspect(&[]).sample(5).is_empty());
    }

    #[test]
    fn the_tenant_id_picks_the_query_and_is_required_by_it() {
        assert_eq!(Strategy::choose(None, None).unwrap(), Strategy::Page);
        assert_eq!(
            Strategy::choose(None, Some(7)).unwrap(),
            Strategy::OrderId { tenant_id: 7 }
        );
        assert_eq!(
            Strategy::choose(Some(QueryKind::Page), Some(7)).unwrap(),
            Strategy::Page
        );
        assert!(matches!(
            Strategy::choose(Some(QueryKind::OrderId), None),
            Err(ReconcileError::MissingTenant)
        ));
    }

    #[test]
    fn paging_stops_at_a_short_page_or_the_total() {
        assert!(is_last_page(1, 99, None));
        assert!(!is_last_page(1, 100, None));
        assert!(is_last_page(2, 100, Some(200)));
        assert!(!is_last_page(2, 100, Some(201)));
        assert!(is_last_page(1, 0, Some(0)));
    }

    #[test]
    fn settling_keeps_the_evidence_and_touches_only_what_is_still_in_doubt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut store = Store::open(&crate::state::Location::Sqlite(path.clone())).unwrap();
        let body = crate::nxcc::CreateAndCall::sample_in("c", "t", &[1, 2]);
        let id = store.record_intent("c", "t", &body).unwrap();
        let attempt = store.find("c", "t").unwrap().unwrap();
        let evidence = Evidence::of(
            "cdr/page",
            Some("r1"),
            &record(Some("A"), Some("T1"), Some(SENT)),
        )
        .unwrap();
        let finding = |attempt: Attempt, evidence: Option<Evidence>| Finding {
            suspect: Suspect {
                attempt,
                order_ids: Vec::new(),
                window: Window::after(SENT, SENT, 1),
            },
            evidence,
            queried: 0,
        };
        let unproven = finding(attempt.clone(), None);
        assert_eq!(settle(&mut store, &[unproven]).unwrap(), 0);
        assert!(store.find("c", "t").unwrap().unwrap().status.is_in_doubt());

        let proven = finding(attempt.clone(), Some(evidence.clone()));
        assert_eq!(
            settle(&mut store, std::slice::from_ref(&proven)).unwrap(),
            1
        );
        let settled = store.find("c", "t").unwrap().unwrap();
        assert_eq!(settled.status, Status::Created);
        assert_eq!(settled.message, Some(evidence.summary()));
        assert_eq!(store.numbers(id).unwrap().len(), 2, "its numbers stay sent");
        let detail: String = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(
                "SELECT detail FROM journal WHERE event = 'reconciled' AND attempt_id = ?1",
                [id],
                |row| row.get(0),
            )
            .unwrap();
        let detail: Value = serde_json::from_str(&detail).unwrap();
        assert_eq!(detail["orderId"], "A");
        assert_eq!(detail["reqId"], "r1");

        // The copy read before settling is stale: settling it again is refused, not repeated.
        let err = settle(&mut store, &[proven]).unwrap_err().to_string();
        assert!(err.contains("no longer in doubt"), "{err}");
    }

    #[test]
    fn a_task_named_twice_is_looked_for_once() {
        let mut other = attempt();
        other.id = 2;
        let ids: Vec<i64> = distinct(vec![attempt(), other, attempt()])
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(ids, [1, 2]);
    }

    #[test]
    fn evidence_needs_every_proving_field_and_reads_in_one_line() {
        let proof = Evidence::of(
            "cdr/page",
            Some("r1"),
            &record(Some("A"), Some("T1"), Some(SENT)),
        )
        .expect("complete");
        assert_eq!(
            proof.summary(),
            format!(
                "created, as the provider's call records show: orderID A was called in its task \
                 T1 at {} (cdr/page reqId r1)",
                rfc3339(SENT)
            )
        );
        assert!(Evidence::of("cdr/page", None, &record(Some("A"), None, Some(SENT))).is_none());
        assert_eq!(unix_seconds(&rfc3339(SENT)), Some(SENT));
    }
}
