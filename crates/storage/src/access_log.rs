//! The access log's write path: reads of personal data are recorded in batches. A read's record
//! joins a queue; a task takes whatever has queued since its last write and inserts it in one
//! transaction (on SQLite, through the writer's group commit), then answers every read of the
//! batch. A read is answered only once its record is committed; under load a batch holds many
//! reads, so the log costs one commit per batch instead of one per read.

use std::future::Future;

use sanad_app::StoreError;
use sanad_app::store::AccessRecord;
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

type Job = (AccessRecord, oneshot::Sender<Result<(), String>>);

/// Records taken into one batch at most (rows of one multi-row insert are chunked below this).
const MAX_BATCH: usize = 2048;
/// Batches written at once.
const FLUSHERS: usize = 2;

#[derive(Clone, Default)]
pub(crate) struct AccessLog {
    queue: Option<mpsc::UnboundedSender<Job>>,
}

impl AccessLog {
    /// Starts the batching task; `write` inserts one batch in one transaction.
    pub(crate) fn start<F, Fut>(write: F) -> AccessLog
    where
        F: Fn(Vec<AccessRecord>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), StoreError>> + Send + 'static,
    {
        let (queue, jobs) = mpsc::unbounded_channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        let write = Arc::new(write);
        // Two batches may be in flight: while one waits for its commit's flush, the next one is
        // written (on SQLite both join the writer's group).
        for _ in 0..FLUSHERS {
            let jobs = jobs.clone();
            let write = write.clone();
            tokio::spawn(async move {
                loop {
                    let (records, answers) = {
                        let mut jobs = jobs.lock().await;
                        let Some(first) = jobs.recv().await else {
                            return;
                        };
                        let mut records = vec![first.0];
                        let mut answers = vec![first.1];
                        while records.len() < MAX_BATCH {
                            match jobs.try_recv() {
                                Ok((record, answer)) => {
                                    records.push(record);
                                    answers.push(answer);
                                }
                                Err(_) => break,
                            }
                        }
                        (records, answers)
                    };
                    let outcome = write(records).await.map_err(|e| e.to_string());
                    if let Err(e) = &outcome {
                        tracing::error!(error = %e, reads = answers.len(), "access-log batch failed");
                    }
                    for answer in answers {
                        let _ = answer.send(outcome.clone());
                    }
                }
            });
        }
        AccessLog { queue: Some(queue) }
    }

    /// Whether reads are batched (otherwise each is written on its own).
    pub(crate) fn is_on(&self) -> bool {
        self.queue.is_some()
    }

    /// Queues a record and waits until it is committed.
    pub(crate) async fn record(&self, record: AccessRecord) -> Result<(), StoreError> {
        let stopped = || StoreError::Unavailable("the access-log writer has stopped".into());
        let queue = self.queue.as_ref().ok_or_else(stopped)?;
        let (answer, committed) = oneshot::channel();
        queue.send((record, answer)).map_err(|_| stopped())?;
        match committed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(StoreError::Unavailable(format!(
                "the access log could not be written: {message}"
            ))),
            Err(_) => Err(stopped()),
        }
    }
}
