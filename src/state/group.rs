//! Group commit for an apply: the store runs on a thread of its own, and every write waiting
//! when it is free goes into one transaction, one durable commit.
//!
//! Requests in flight wait for their intent to be committed before they leave; with one
//! commit (one `fsync` on SQLite, one WAL flush on PostgreSQL) per request, the disk's latency
//! paced the whole apply. Here a commit covers every intent and outcome queued meanwhile, so
//! with N requests in flight up to N of them share it. The rule that keeps numbers from being
//! dialed twice is unchanged: an intent's answer (and so its request) waits for its commit.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::{Recorded, StateError, Store, Update, Write, Written, intent_answer, intent_of};
use crate::nxcc::CreateAndCall;

/// One write and who waits for its answer.
struct Job {
    write: Write,
    answer: oneshot::Sender<Result<Written, String>>,
}

/// The store, lent to its own thread for the length of an apply.
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
    thread: JoinHandle<Store>,
}

impl GroupCommit {
    /// Moves `store` onto its thread; [`GroupCommit::finish`] gives it back.
    pub fn start(store: Store) -> GroupCommit {
        let (jobs, queue) = mpsc::channel::<Job>();
        // Like `std::thread::spawn`, fails only when the system cannot make a thread at all.
        let thread = std::thread::spawn(move || serve(store, &queue));
        GroupCommit { jobs, thread }
    }

    /// Durably records that `body` is about to be sent, as [`Store::record_intent`] does: once
    /// this returns `Ok`, the intent is committed.
    pub async fn record_intent(
        &self,
        campaign: &str,
        base_name: &str,
        body: &CreateAndCall,
    ) -> Result<i64, StateError> {
        let intent = intent_of(campaign, base_name, body)?;
        let written = self.submit(Write::Intent(intent)).await?;
        intent_answer(written, campaign, &body.task_name)
    }

    /// Records how the attempt `attempt_id` ended, as [`Store::record_outcome`] does.
    pub async fn record_outcome(
        &self,
        attempt_id: i64,
        outcome: &Recorded,
    ) -> Result<(), StateError> {
        self.submit(Write::Update(Update::Outcome {
            attempt_id,
            outcome: outcome.clone(),
        }))
        .await
        .map(drop)
    }

    async fn submit(&self, write: Write) -> Result<Written, StateError> {
        let (answer, answered) = oneshot::channel();
        let gone = || StateError::msg("the state thread stopped; nothing more is recorded");
        self.jobs.send(Job { write, answer }).map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?.map_err(StateError::msg)
    }

    /// Waits for every write to be committed and gives the store back.
    pub fn finish(self) -> Store {
        let GroupCommit { jobs, thread } = self;
        drop(jobs);
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

/// Commits what is queued, batch after batch, until every sender is gone.
fn serve(mut store: Store, queue: &mpsc::Receiver<Job>) -> Store {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        batch.extend(queue.try_iter());
        let (writes, answers): (Vec<Write>, Vec<_>) =
            batch.into_iter().map(|job| (job.write, job.answer)).unzip();
        match store.backend.write(writes) {
            Ok(written) => {
                for (answer, written) in answers.into_iter().zip(written) {
                    let _ = answer.send(Ok(written));
                }
            }
            Err(err) => {
                let message = err.to_string();
                for answer in answers {
                    let _ = answer.send(Err(message.clone()));
                }
            }
        }
    }
    store
}
