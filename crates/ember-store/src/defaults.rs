//! The store's default settings, defined once: [`StoreOptions::new`](crate::StoreOptions::new),
//! [`QueueLimits::default`](crate::QueueLimits) and `ember serve`'s flags all take them from here.

/// Connections in SQLite's read pool.
pub const READ_CONNECTIONS: u32 = 4;
/// Connections in each PostgreSQL pool.
pub const POOL_SIZE: u32 = 10;
/// Attribute values collected before a compression dictionary is trained (SQLite).
pub const DICTIONARY_SAMPLES: usize = 2000;
/// How long a list or filter query may run, in milliseconds.
pub const QUERY_BUDGET_MS: u64 = 10_000;
/// Spans accepted and not yet committed (Phoenix's `PHOENIX_MAX_SPANS_QUEUE_SIZE` default).
pub const MAX_QUEUED_SPANS: usize = 20_000;
/// Bytes of decoded spans accepted and not yet committed.
pub const MAX_QUEUED_BYTES: usize = 512 << 20;
/// Spans committed in one transaction at most.
pub const MAX_BATCH_SPANS: usize = 10_000;
/// Span transactions written at once on PostgreSQL.
pub const INGEST_WRITERS: usize = 4;

/// The most span JSON (attributes and events) one read decodes: 256 MiB.
pub const MAX_READ_JSON_BYTES: usize = 256 << 20;

/// SQLite: the WAL's bound, past which the checkpointer empties it: 256 MiB.
pub const MAX_WAL_BYTES: u64 = 256 << 20;

/// SQLite: free disk below which ember warns: 1 GiB.
pub const DISK_FREE_WARNING_BYTES: u64 = 1 << 30;
/// SQLite: free disk below which ingest is refused: 256 MiB.
pub const DISK_FREE_MIN_BYTES: u64 = 256 << 20;
