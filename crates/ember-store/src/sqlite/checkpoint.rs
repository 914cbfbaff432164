//! WAL checkpoints off the writer's path, and a bound on the WAL's size.
//!
//! SQLite normally checkpoints inside the committing transaction, so the single writer would copy
//! every page twice (into the WAL, then into the database) before acknowledging. Instead a
//! dedicated connection runs passive checkpoints, on its own thread, after commits; the writer's
//! own `wal_autocheckpoint` stays as a backstop should this fall far behind.
//!
//! A passive checkpoint copies frames but never makes the writer start the WAL over: under steady
//! ingest the writer appends while it copies, so the file only grows (a 100k-span load once left
//! a WAL twice the database's size). Once the WAL holds three quarters of its bound, a
//! `TRUNCATE` checkpoint runs on the writer's own connection, taking its turn between
//! transactions (from another connection it would wait for a gap between them that steady
//! ingest never leaves): it waits for readers of older snapshots to finish, copies every frame
//! and empties the file. The last quarter holds the commits queued ahead of it meanwhile (at the
//! bound itself the 256 MiB default peaked at 325 MB under 10M spans of ingest with a reader).
//! Ingest pauses for that copy, about a second per 256 MiB. The writer also truncates the file to
//! the bound whenever it starts the WAL over (`journal_size_limit`).

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Row, SqlitePool};
use tokio::sync::Notify;

/// Bytes of a WAL frame beyond its page: the frame header.
const FRAME_HEADER: i64 = 24;

/// Wakes the checkpointer; cheap to clone.
#[derive(Clone)]
pub(crate) struct Checkpointer {
    wake: Arc<Notify>,
    pool: SqlitePool,
}

impl Checkpointer {
    /// Starts checkpointing through `pool`, bounding the WAL to about `max_wal_bytes` through the
    /// `writer`'s connection.
    pub(crate) fn start(pool: SqlitePool, writer: SqlitePool, max_wal_bytes: u64) -> Checkpointer {
        let wake = Arc::new(Notify::new());
        tokio::spawn(run(pool.clone(), writer, wake.clone(), max_wal_bytes));
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

async fn run(pool: SqlitePool, writer: SqlitePool, wake: Arc<Notify>, max_wal_bytes: u64) {
    let page_size: i64 = match sqlx::query("PRAGMA page_size").fetch_one(&pool).await.and_then(|row| row.try_get(0)) {
        Ok(size) => size,
        Err(_) => return,
    };
    let max_frames = (max_wal_bytes.min(i64::MAX as u64) as i64 / (page_size + FRAME_HEADER) / 4 * 3).max(1);
    loop {
        // Woken by commits; the timeout also catches up after quiet periods.
        let _ = tokio::time::timeout(Duration::from_secs(1), wake.notified()).await;
        if pool.is_closed() {
            return;
        }
        match checkpoint(&pool, "PASSIVE").await {
            Ok(frames) if frames > max_frames => {
                if let Err(error) = checkpoint(&writer, "TRUNCATE").await {
                    tracing::warn!(%error, frames, "could not empty the WAL; trying again after the next commit");
                }
            }
            Ok(_) => {}
            Err(_) if pool.is_closed() => return,
            Err(error) => tracing::warn!(%error, "background WAL checkpoint failed"),
        }
    }
}

/// Runs a checkpoint; returns the frames the WAL held.
async fn checkpoint(pool: &SqlitePool, mode: &str) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(&format!("PRAGMA wal_checkpoint({mode})")).fetch_one(pool).await?;
    // (busy, frames in the WAL, frames checkpointed)
    row.try_get(1)
}
