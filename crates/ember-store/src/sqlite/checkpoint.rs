//! WAL checkpoints off the writer's path.
//!
//! SQLite normally checkpoints inside the committing transaction, so the single writer would copy
//! every page twice (into the WAL, then into the database) before acknowledging. Instead a
//! dedicated connection runs passive checkpoints, on its own thread, after commits; the writer's
//! own `wal_autocheckpoint` stays as a backstop should this fall far behind.

use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::Notify;

/// Wakes the checkpointer; cheap to clone.
#[derive(Clone)]
pub(crate) struct Checkpointer {
    wake: Arc<Notify>,
    pool: SqlitePool,
}

impl Checkpointer {
    pub(crate) fn start(pool: SqlitePool) -> Checkpointer {
        let wake = Arc::new(Notify::new());
        tokio::spawn(run(pool.clone(), wake.clone()));
        Checkpointer { wake, pool }
    }

    /// Called after a commit.
    pub(crate) fn committed(&self) {
        self.wake.notify_one();
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
        self.wake.notify_one();
    }
}

async fn run(pool: SqlitePool, wake: Arc<Notify>) {
    loop {
        // Woken by commits; the timeout also catches up after quiet periods.
        let _ = tokio::time::timeout(Duration::from_secs(1), wake.notified()).await;
        if pool.is_closed() {
            return;
        }
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(%error, "background WAL checkpoint failed");
        }
    }
}
