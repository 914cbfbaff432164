//! Decoding bodies ember cannot trust (Arrow IPC, Parquet, CSV, JSON rows, legacy evaluations):
//! on a blocking thread, so a large body does not hold a runtime thread, and with a panic inside a
//! third-party decoder (arrow and parquet have panicked on malformed buffers) turned into a 422
//! naming the format instead of a dropped connection.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::ApiError;

/// Runs `decode` where a panic cannot escape; `None` when it panicked.
pub fn without_panic<T>(format: &str, decode: impl FnOnce() -> T) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(decode)) {
        Ok(value) => Some(value),
        Err(_) => {
            tracing::warn!(format, "a decoder panicked on a malformed body; answered 422");
            None
        }
    }
}

/// The answer for a body (`what`, e.g. "the Arrow IPC body") whose decoder panicked.
pub fn malformed(what: &str) -> ApiError {
    ApiError::unprocessable(format!("{what} is malformed"))
}

/// Runs `decode` on a blocking thread, without panics escaping.
pub async fn decode_off_runtime<T: Send + 'static>(
    format: &'static str,
    decode: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(move || without_panic(format, decode)).await {
        Ok(Some(result)) => result,
        Ok(None) => Err(malformed(&format!("the {format} body"))),
        Err(error) => Err(ApiError::internal(format!("a decoding task failed: {error}"))),
    }
}
