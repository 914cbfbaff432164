use ember_core::{ClassifiedError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored JSON is unreadable: {0}")]
    CorruptJson(#[from] serde_json::Error),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the write could not be committed; retry later")]
    BatchFailed,
    #[error("the ingest writer has stopped")]
    WriterStopped,
    /// The database settings are unusable (url, schema name); reported when the store opens.
    #[error("invalid database settings: {0}")]
    Config(String),
    #[error("the query ran past its time budget of {budget_ms} ms and was cancelled; narrow the filter or the time window")]
    QueryTimeout { budget_ms: u128 },
}

impl ClassifiedError for StoreError {
    fn error_code(&self) -> ErrorCode {
        match self {
            StoreError::NotFound(_) => ErrorCode::NotFound,
            StoreError::Conflict(_) => ErrorCode::Conflict,
            StoreError::Invalid(_) => ErrorCode::Unprocessable,
            // Nothing was committed: the client may retry.
            StoreError::WriterStopped | StoreError::BatchFailed => ErrorCode::Unavailable,
            // Protects the database from runaway filters; a narrower query will succeed.
            StoreError::QueryTimeout { .. } => ErrorCode::Unavailable,
            StoreError::Database(_)
            | StoreError::Migration(_)
            | StoreError::CorruptJson(_)
            | StoreError::Corrupt(_)
            | StoreError::Config(_) => ErrorCode::Internal,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
