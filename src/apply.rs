//! Applying: sending planned requests, each recorded in state before it leaves and after it
//! comes back, so that no crash, retry or re-run can send a number twice.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use time::OffsetDateTime;

use crate::nxcc::{Client, CreateAndCall, Outcome};
use crate::plan::saved::{SavedPlanError, SavedRequest};
use crate::plan::{Action, Plan};
use crate::state::{GroupCommit, Recorded, Status, Store};

/// Default number of requests in flight at once.
pub const DEFAULT_PARALLELISM: usize = 4;
/// Default request rate limit, per second: the provider documents none, so stay gentle.
pub const DEFAULT_RATE: f64 = 10.0;

/// One request to send.
#[derive(Debug, Clone)]
pub struct Request {
    pub campaign: String,
    pub base_name: String,
    pub body: CreateAndCall,
    /// The body serialized once: these bytes are signed and sent.
    pub body_text: String,
    /// The last moment it may leave (its numbers' calling window, the campaign's `notAfter`):
    /// a request still waiting then is not sent.
    pub send_by: Option<OffsetDateTime>,
}

impl Request {
    /// The requests of a freshly computed plan, in plan order. Takes the plan so that each
    /// body (perhaps a million numbers) moves into its request instead of being copied. Each
    /// body is serialized when its request is taken, not all up front: [`run`] takes a request
    /// only when it has room for it in flight, and drops it once it is answered, so only the
    /// requests in flight hold their text beside their body (all of them at once were a third
    /// of the memory of an apply of a million numbers).
    pub fn from_plan(plan: Plan) -> impl ExactSizeIterator<Item = Request> {
        let creates: Vec<_> = plan
            .changes
            .into_iter()
            .filter(|c| c.action == Action::Create)
            .filter_map(|change| {
                Some((
                    change.body?,
                    change.campaign,
                    change.base_name,
                    change.send_by,
                ))
            })
            .collect();
        creates
            .into_iter()
            .map(|(body, campaign, base_name, send_by)| Request {
                campaign,
                base_name,
                body_text: body.to_json(),
                body,
                send_by,
            })
    }

    /// A request of a saved plan: its body text is sent exactly as saved.
    pub fn from_saved(saved: &SavedRequest) -> Result<Request, SavedPlanError> {
        let send_by = match &saved.send_by {
            None => None,
            // Sealed with the plan: unreadable only through a bug, and then nothing is sent.
            Some(text) => {
                Some(
                    crate::clock::parse(text).ok_or_else(|| SavedPlanError::BodyMismatch {
                        campaign: saved.campaign.clone(),
                        task_name: saved.task_name.clone(),
                    })?,
                )
            }
        };
        Ok(Request {
            campaign: saved.campaign.clone(),
            base_name: saved.base_name.clone(),
            body: saved.parsed_body()?,
            body_text: saved.body.clone(),
            send_by,
        })
    }
}

/// How a request ended, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOutcome {
    Created {
        req_id: Option<String>,
    },
    /// The provider refused it (or it never left): nothing was created, the numbers are free.
    Rejected {
        code: Option<i64>,
        message: String,
    },
    /// The outcome is unknown: the numbers stay blocked until `state resolve`.
    InDoubt {
        reason: String,
    },
    /// Not sent: stopped by Ctrl-C, or state refused to record it.
    NotStarted {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskReport {
    pub campaign: String,
    pub task_name: String,
    pub numbers: usize,
    pub outcome: TaskOutcome,
}

/// Told as requests leave and come back; the command line prints from it.
pub trait Observer: Sync {
    fn sending(&self, request: &Request);
    fn finished(&self, report: &TaskReport);
}

#[derive(Debug, Clone)]
pub struct Options {
    pub parallelism: usize,
    /// Requests per second at most; 0 for no limit.
    pub rate: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            parallelism: DEFAULT_PARALLELISM,
            rate: DEFAULT_RATE,
        }
    }
}

/// Sends `requests` with at most `options.parallelism` in flight. For each: the intent is
/// committed to `store`, the signed request sent, the outcome committed. Once `stop` is set no
/// new request starts; those in flight finish and are recorded. The store works on a thread of
/// its own meanwhile, committing the intents and outcomes of requests in flight together
/// ([`GroupCommit`]), and is given back with the reports.
pub async fn run(
    store: Store,
    client: &Client,
    requests: impl IntoIterator<Item = Request>,
    options: &Options,
    observer: &dyn Observer,
    stop: &AtomicBool,
) -> Sent {
    let store = GroupCommit::start(store);
    let reports = send_all(&store, client, requests, options, observer, stop).await;
    Sent {
        store: store.finish(),
        reports,
    }
}

/// What [`run`] gives back: the store, and a report per request.
#[derive(Debug)]
pub struct Sent {
    pub store: Store,
    pub reports: Vec<TaskReport>,
}

async fn send_all(
    store: &GroupCommit,
    client: &Client,
    requests: impl IntoIterator<Item = Request>,
    options: &Options,
    observer: &dyn Observer,
    stop: &AtomicBool,
) -> Vec<TaskReport> {
    let pacer = Pacer::new(options.rate);
    let sends = requests.into_iter().map(|request| {
        let pacer = &pacer;
        async move {
            let not_started = |reason: String| {
                let report = report(&request, TaskOutcome::NotStarted { reason });
                observer.finished(&report);
                report
            };
            if !stop.load(Ordering::SeqCst) {
                pacer.wait().await;
            }
            if stop.load(Ordering::SeqCst) {
                return not_started("stopped before sending (interrupted)".to_owned());
            }
            // The last moment before the request is committed to: what may be sent now is
            // checked here.
            if let Some(reason) = too_late(&request, crate::clock::rules_now_or_clock()) {
                return not_started(reason);
            }
            let intent = store
                .record_intent(&request.campaign, &request.base_name, &request.body)
                .await;
            let attempt_id = match intent {
                Ok(id) => id,
                Err(err) => return not_started(err.to_string()),
            };
            observer.sending(&request);
            let outcome = client.create_and_call(&request.body_text).await;
            let (recorded, task_outcome) = classify(outcome);
            let task_outcome = match store.record_outcome(attempt_id, &recorded).await {
                Ok(()) => task_outcome,
                // The attempt stays `sending`, which every later run reads as in doubt.
                Err(err) => TaskOutcome::InDoubt {
                    reason: format!("the outcome ({task_outcome:?}) could not be recorded: {err}"),
                },
            };
            let report = report(&request, task_outcome);
            observer.finished(&report);
            report
        }
    });
    futures_util::stream::iter(sends)
        .buffer_unordered(options.parallelism.max(1))
        .collect()
        .await
}

/// Why `request` may no longer leave at `now`: its numbers' calling window closed (or the
/// campaign's `notAfter` passed) since it was planned. Checked just before its intent is
/// recorded, so a plan reviewed at 20:50 does not dial at 21:10.
fn too_late(request: &Request, now: OffsetDateTime) -> Option<String> {
    let send_by = request.send_by?;
    (now > send_by).then(|| {
        format!(
            "not sent: it had to leave by {} (its numbers' calling window or the campaign's \
             notAfter), and it is {} now; nothing was recorded, plan again",
            crate::clock::format(send_by),
            crate::clock::format(now)
        )
    })
}

fn report(request: &Request, outcome: TaskOutcome) -> TaskReport {
    TaskReport {
        campaign: request.campaign.clone(),
        task_name: request.body.task_name.clone(),
        numbers: request.body.call_list.len(),
        outcome,
    }
}

/// What to record for a provider outcome, and what to tell the user.
fn classify(outcome: Outcome) -> (Recorded, TaskOutcome) {
    match outcome {
        Outcome::Created { req_id, msg } => (
            Recorded {
                status: Status::Created,
                req_id: req_id.clone(),
                code: Some(0),
                message: msg,
            },
            TaskOutcome::Created { req_id },
        ),
        Outcome::Rejected { code, msg, req_id } => {
            let message = msg.unwrap_or_else(|| "no message".to_owned());
            (
                Recorded {
                    status: Status::Rejected,
                    req_id,
                    code: Some(code),
                    message: Some(message.clone()),
                },
                TaskOutcome::Rejected {
                    code: Some(code),
                    message,
                },
            )
        }
        Outcome::NotSent { reason } => (
            Recorded {
                status: Status::Rejected,
                req_id: None,
                code: None,
                message: Some(format!("not sent: {reason}")),
            },
            TaskOutcome::Rejected {
                code: None,
                message: format!("not sent: {reason}"),
            },
        ),
        // Refused unread: as free as a rejection, but there is no provider code to record.
        Outcome::TooLarge { .. } => (
            Recorded {
                status: Status::Rejected,
                req_id: None,
                code: None,
                message: Some(outcome.to_string()),
            },
            TaskOutcome::Rejected {
                code: None,
                message: outcome.to_string(),
            },
        ),
        Outcome::Unknown { reason, req_id } => (
            Recorded {
                status: Status::InDoubt,
                req_id,
                code: None,
                message: Some(reason.clone()),
            },
            TaskOutcome::InDoubt { reason },
        ),
    }
}

/// Spaces request starts evenly to stay under a rate.
pub(crate) struct Pacer {
    interval: Option<tokio::sync::Mutex<tokio::time::Interval>>,
}

impl Pacer {
    pub(crate) fn new(rate: f64) -> Pacer {
        let interval = (rate > 0.0 && rate.is_finite()).then(|| {
            let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tokio::sync::Mutex::new(interval)
        });
        Pacer { interval }
    }

    pub(crate) async fn wait(&self) {
        if let Some(interval) = &self.interval {
            interval.lock().await.tick().await;
        }
    }
}

/// The counts of an apply, for its closing line and exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub created: usize,
    pub numbers_created: usize,
    pub rejected: usize,
    pub in_doubt: usize,
    pub not_started: usize,
}

impl Summary {
    pub fn of(reports: &[TaskReport]) -> Summary {
        let mut summary = Summary::default();
        for report in reports {
            match report.outcome {
                TaskOutcome::Created { .. } => {
                    summary.created += 1;
                    summary.numbers_created += report.numbers;
                }
                TaskOutcome::Rejected { .. } => summary.rejected += 1,
                TaskOutcome::InDoubt { .. } => summary.in_doubt += 1,
                TaskOutcome::NotStarted { .. } => summary.not_started += 1,
            }
        }
        summary
    }

    /// Whether everything that was to be sent was created.
    pub fn is_success(&self) -> bool {
        self.rejected == 0 && self.in_doubt == 0 && self.not_started == 0
    }
}
