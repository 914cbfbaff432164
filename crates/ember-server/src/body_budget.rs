//! One budget on request-body bytes held in memory by all requests at once
//! (`EMBER_MAX_BODY_BYTES_IN_FLIGHT`), on top of the per-request cap: each request may carry up
//! to `EMBER_MAX_BODY_BYTES`, and nothing else would bound their sum. A request reserves its body
//! before the body is read — its `Content-Length`, or the largest body when the length is not
//! known — and a decompressed body reserves the largest body before decompressing and keeps what
//! it used. When the budget is spent the request is answered 503 with `Retry-After` (exporters
//! and clients retry; the refused body is read and discarded, so they see the answer), never
//! buffered: memory stays bounded under any number of senders.

use std::sync::Arc;

use axum::body::HttpBody as _;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::BodyExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::body::{decompress, BodyError, ContentEncoding};
use crate::error::ApiError;
use crate::AppState;

/// The budget is kept in KiB: a semaphore takes at most `u32::MAX` permits at once.
const UNIT: usize = 1024;

fn units(bytes: usize) -> usize {
    bytes.div_ceil(UNIT)
}

/// The shared budget. Cheap to clone.
#[derive(Clone, Debug)]
pub struct BodyBudget {
    semaphore: Arc<Semaphore>,
    total_bytes: usize,
}

/// Bytes held against the budget, given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    permit: Option<OwnedSemaphorePermit>,
}

impl Reservation {
    /// Keeps `bytes` of the reservation and gives the rest back.
    pub fn shrink_to(&mut self, bytes: usize) {
        if let Some(permit) = &mut self.permit {
            let excess = permit.num_permits().saturating_sub(units(bytes));
            drop(permit.split(excess));
        }
    }
}

impl BodyBudget {
    pub fn new(total_bytes: usize) -> BodyBudget {
        BodyBudget { semaphore: Arc::new(Semaphore::new(units(total_bytes).max(1))), total_bytes }
    }

    /// Reserves `bytes` now, or fails with [`BodyError::Busy`] when the budget is spent.
    pub fn try_reserve(&self, bytes: usize) -> Result<Reservation, BodyError> {
        if bytes == 0 {
            return Ok(Reservation { permit: None });
        }
        let wanted = u32::try_from(units(bytes)).map_err(|_| BodyError::Busy(self.total_bytes))?;
        match Arc::clone(&self.semaphore).try_acquire_many_owned(wanted) {
            Ok(permit) => Ok(Reservation { permit: Some(permit) }),
            Err(_) => {
                // Debug, not warn: under a flood this would be one line per refused request.
                tracing::debug!(bytes, budget = self.total_bytes, "request refused: request bodies in flight use the whole budget");
                Err(BodyError::Busy(self.total_bytes))
            }
        }
    }

    /// Bytes not reserved now (for tests and logs).
    pub fn available_bytes(&self) -> usize {
        self.semaphore.available_permits() * UNIT
    }

    /// Decompresses `body` (at most `limit` bytes out) within the budget: a compressed body
    /// reserves `limit` first and keeps what its output uses. The reservation must live as long
    /// as the output.
    pub fn decompress(&self, body: Bytes, encoding: ContentEncoding, limit: usize) -> Result<(Bytes, Reservation), BodyError> {
        if encoding == ContentEncoding::Identity {
            // The middleware reserved the body as it arrived.
            return Ok((decompress(body, encoding, limit)?, Reservation { permit: None }));
        }
        let mut reservation = self.try_reserve(limit)?;
        let output = decompress(body, encoding, limit)?;
        reservation.shrink_to(output.len());
        Ok((output, reservation))
    }
}

/// Middleware: reserves each request's body for as long as the request is handled.
pub async fn reserve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // A known length (the body's exact size, or its `Content-Length`, which hyper holds the body
    // to) is what arrives, capped by the per-request limit that refuses the rest; an unknown
    // length (a chunked body) may be anything up to that limit. The header is read too because
    // body wrappers (the listener's body timeout) do not pass the exact size on.
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let bytes = match request.body().size_hint().exact().or(declared) {
        Some(length) => usize::try_from(length).unwrap_or(usize::MAX).min(state.max_body_bytes),
        None => state.max_body_bytes,
    };
    match state.body_budget.try_reserve(bytes) {
        Ok(reservation) => {
            let response = next.run(request).await;
            drop(reservation);
            response
        }
        Err(error) => {
            // The body is read to its end and discarded (a frame at a time: no memory kept), so
            // the client reads the 503 instead of a connection reset mid-upload.
            let mut body = request.into_body();
            let mut drained = 0usize;
            while drained <= state.max_body_bytes {
                match body.frame().await {
                    Some(Ok(frame)) => drained += frame.data_ref().map_or(0, |data| data.len()),
                    _ => break,
                }
            }
            ApiError::from(error).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_refused_past_the_budget_and_given_back() {
        let budget = BodyBudget::new(10 * UNIT);
        let mut first = budget.try_reserve(6 * UNIT).unwrap();
        assert!(matches!(budget.try_reserve(5 * UNIT), Err(BodyError::Busy(_))));
        first.shrink_to(UNIT + 1);
        assert_eq!(budget.available_bytes(), 8 * UNIT, "a shrunk reservation keeps whole units");
        let second = budget.try_reserve(5 * UNIT).unwrap();
        drop((first, second));
        assert_eq!(budget.available_bytes(), 10 * UNIT);
        assert!(budget.try_reserve(0).is_ok());
    }
}
