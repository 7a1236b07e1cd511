//! The one writer of a SQLite database: a dedicated connection that every write of this process
//! goes through, with group commit. SQLite admits one writer at a time; instead of letting
//! connections race for the lock and back off on `busy_timeout` (the long tail under load), writes
//! queue for this connection in arrival order (a fair lock).
//!
//! A write takes the connection, opens a `SAVEPOINT` inside the group's transaction (the first
//! write of a group opens it with `BEGIN IMMEDIATE`), runs its statements, and releases the
//! savepoint; then it hands the connection on and waits. A committer task commits the group (one
//! `COMMIT`, one fsync in WAL with `synchronous=FULL`) once the writes queued before it are done,
//! and only then is each write answered. A write that fails or is abandoned rolls back to its own
//! savepoint: it refuses only itself, the rest of its group commits.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sanad_app::StoreError;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection as _, Executor as _};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, oneshot};

/// The connection and the state of the group it is writing.
struct State {
    conn: SqliteConnection,
    /// A group transaction is open.
    open: bool,
    /// A write left its savepoint open (it failed or was dropped): roll it back before anything else.
    dirty: bool,
    /// The writes of the open group that released their savepoint, waiting for its commit.
    waiting: Vec<oneshot::Sender<Result<(), String>>>,
}

#[derive(Clone)]
pub(crate) struct Writer {
    state: Arc<Mutex<State>>,
    kick: Arc<Notify>,
}

const SAVEPOINT: &str = "SAVEPOINT sanad_write";
const RELEASE: &str = "RELEASE sanad_write";
const ROLLBACK_TO: &str = "ROLLBACK TO sanad_write";

fn store_error(e: sqlx::Error) -> StoreError {
    crate::db_error(e)
}

impl Writer {
    /// Takes `conn` as the database's writer and starts its committer.
    pub(crate) fn start(conn: SqliteConnection) -> Writer {
        let writer = Writer {
            state: Arc::new(Mutex::new(State {
                conn,
                open: false,
                dirty: false,
                waiting: Vec::new(),
            })),
            kick: Arc::new(Notify::new()),
        };
        let state = Arc::downgrade(&writer.state);
        let kick = writer.kick.clone();
        tokio::spawn(async move {
            loop {
                kick.notified().await;
                // Gone when every store sharing this writer is gone.
                let Some(state) = state.upgrade() else { return };
                let mut st = state.lock_owned().await;
                commit_group(&mut st).await;
            }
        });
        writer
    }

    /// Starts a write: waits for the connection, joins (or opens) the group transaction and sets
    /// the write's savepoint.
    pub(crate) async fn begin(&self) -> Result<WriteTx, StoreError> {
        let mut st = self.state.clone().lock_owned().await;
        if st.dirty {
            undo_savepoint(&mut st).await;
        }
        if !st.open {
            st.conn
                .execute("BEGIN IMMEDIATE")
                .await
                .map_err(store_error)?;
            st.open = true;
        }
        if let Err(e) = st.conn.execute(SAVEPOINT).await {
            // The group cannot go on; let the committer settle it.
            self.kick.notify_one();
            return Err(store_error(e));
        }
        st.dirty = true;
        Ok(WriteTx {
            state: Some(st),
            kick: self.kick.clone(),
        })
    }
}

/// Rolls back the savepoint a write left open; if that fails the whole group is lost, and its
/// waiting writes are told so.
async fn undo_savepoint(st: &mut State) {
    let undone = async {
        st.conn.execute(ROLLBACK_TO).await?;
        st.conn.execute(RELEASE).await
    }
    .await;
    st.dirty = false;
    if let Err(e) = undone {
        tracing::error!(error = %e, "SQLite writer: a group transaction was lost");
        let _ = st.conn.execute("ROLLBACK").await;
        st.open = false;
        for w in st.waiting.drain(..) {
            let _ = w.send(Err(e.to_string()));
        }
    }
}

/// Commits the open group (if any) and answers its writes.
async fn commit_group(st: &mut State) {
    if st.dirty {
        undo_savepoint(st).await;
    }
    if !st.open {
        return;
    }
    let outcome = st.conn.execute("COMMIT").await.map(|_| ());
    if outcome.is_err() {
        let _ = st.conn.execute("ROLLBACK").await;
    }
    st.open = false;
    let outcome = outcome.map_err(|e| e.to_string());
    if let Err(e) = &outcome {
        tracing::error!(error = %e, writes = st.waiting.len(), "SQLite writer: group commit failed");
    }
    for w in st.waiting.drain(..) {
        let _ = w.send(outcome.clone());
    }
}

/// A write in progress on the writer's connection (statements go through `&mut *tx`, as on a
/// `sqlx::Transaction`). Dropped without [`WriteTx::commit`], it rolls back to its savepoint.
pub(crate) struct WriteTx {
    state: Option<OwnedMutexGuard<State>>,
    kick: Arc<Notify>,
}

impl WriteTx {
    /// Releases the savepoint and waits until the group that holds it is committed.
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        let Some(mut st) = self.state.take() else {
            return Err(sqlx::Error::PoolClosed);
        };
        if let Err(e) = st.conn.execute(RELEASE).await {
            // Still dirty: the next holder rolls the savepoint back.
            drop(st);
            self.kick.notify_one();
            return Err(e);
        }
        st.dirty = false;
        let (done, answer) = oneshot::channel();
        st.waiting.push(done);
        drop(st);
        self.kick.notify_one();
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(sqlx::Error::Io(std::io::Error::other(format!(
                "the group commit failed: {message}"
            )))),
            Err(_) => Err(sqlx::Error::WorkerCrashed),
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if let Some(mut st) = self.state.take() {
            // A failed or abandoned write: undo it now, still holding the connection, so that the
            // next write starts clean (and, without a runtime, the next holder does it).
            let kick = self.kick.clone();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    undo_savepoint(&mut st).await;
                    drop(st);
                    kick.notify_one();
                });
            } else {
                drop(st);
                kick.notify_one();
            }
        }
    }
}

impl Deref for WriteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        // Present from creation until commit, rollback or drop, which all consume the write.
        match &self.state {
            Some(st) => &st.conn,
            None => unreachable_state(),
        }
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match &mut self.state {
            Some(st) => &mut st.conn,
            None => unreachable_state(),
        }
    }
}

#[allow(clippy::panic)]
fn unreachable_state() -> ! {
    // `state` is only taken by the methods that consume the write.
    panic!("SQLite write used after it ended")
}

/// Opens the writer's own connection to the database of `options`.
pub(crate) async fn connect(
    options: &sqlx::sqlite::SqliteConnectOptions,
) -> Result<Writer, StoreError> {
    let conn = SqliteConnection::connect_with(options)
        .await
        .map_err(store_error)?;
    Ok(Writer::start(conn))
}
