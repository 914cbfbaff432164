//! Span ingestion: every way spans enter ember (OTLP over HTTP and gRPC, `POST .../spans`, the
//! playground's own traces) ends here. Decoding and preparing spans (JSON, compression) is CPU
//! work and runs on a blocking thread, never on the async runtime; the spans then wait in the
//! bounded ingest queue and the call returns once they are committed. A full queue is refused
//! before any decoding (503 / RESOURCE_EXHAUSTED), as Phoenix checks capacity first, and so is
//! a database past a storage limit (507, see `storage`).

use ember_core::RoutedSpan;
use ember_otlp::DecodedExport;
use ember_store::{PreparedSpan, QueueFull};

use crate::error::{Result, ServiceError};
use crate::{Caller, Services};

/// What the sender is told about spans it sent that were not stored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExportReport {
    pub rejected_spans: i64,
    pub error_message: String,
}

pub struct Ingest<'a> {
    pub(crate) services: &'a Services,
}

impl Ingest<'_> {
    /// Runs `decode` (decompression and decoding of an OTLP export, the transport's part) on a
    /// blocking thread, prepares the decoded spans there too, and waits until they are committed.
    pub async fn export<E>(
        &self,
        caller: &Caller,
        decode: impl FnOnce() -> Result<DecodedExport, E> + Send + 'static,
    ) -> Result<ExportReport>
    where
        E: Into<ServiceError> + Send + 'static,
    {
        caller.require_write()?;
        self.refuse_when_full()?;
        let queue = self.services.ingest.clone();
        let (spans, report) = tokio::task::spawn_blocking(move || -> Result<_> {
            let decoded = decode().map_err(Into::into)?;
            let report = ExportReport {
                rejected_spans: decoded.rejected_spans as i64,
                error_message: if decoded.rejected_spans == 0 {
                    String::new()
                } else {
                    format!("{} spans rejected: {}", decoded.rejected_spans, decoded.rejection_reasons.join("; "))
                },
            };
            Ok((queue.prepare_spans(decoded.spans), report))
        })
        .await??;
        self.check_projects(caller, &spans).await?;
        self.submit(spans).await?;
        Ok(report)
    }

    /// Prepares spans on a blocking thread and waits until they are committed.
    pub async fn write(&self, caller: &Caller, spans: Vec<RoutedSpan>) -> Result<()> {
        caller.require_write()?;
        self.refuse_when_full()?;
        let queue = self.services.ingest.clone();
        let prepared = tokio::task::spawn_blocking(move || queue.prepare_spans(spans)).await?;
        self.check_projects(caller, &prepared).await?;
        self.submit(prepared).await
    }

    /// 403 unless the caller may send spans to every project the spans name. A project that does
    /// not exist yet is created by ingestion, except for a key scoped to another project.
    async fn check_projects(&self, caller: &Caller, spans: &[PreparedSpan]) -> Result<()> {
        if self.services.reaches_everything(caller) {
            return Ok(());
        }
        let mut names: Vec<&str> = spans.iter().map(|span| span.project_name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let allowed = match self.services.store.get_project_by_name(name).await? {
                Some(project) => self.services.project_rights(caller, project.id).await?.ingest,
                None => caller.scope().project_id.is_none(),
            };
            if !allowed {
                return Err(ServiceError::forbidden(format!("This caller may not send spans to the project {name:?}")));
            }
        }
        Ok(())
    }

    /// Refuses before any decoding: past a storage limit (507) or with the queue full (503).
    fn refuse_when_full(&self) -> Result<()> {
        self.services.storage().check_ingest()?;
        if self.services.ingest.is_full() {
            self.services.metrics.record_ingest_refusal();
            return Err(QueueFull::AtCapacity.into());
        }
        Ok(())
    }

    async fn submit(&self, spans: Vec<PreparedSpan>) -> Result<()> {
        if spans.is_empty() {
            return Ok(());
        }
        let count = spans.len();
        let committed = match self.services.ingest.submit(spans) {
            Ok(committed) => committed,
            Err(full) => {
                self.services.metrics.record_ingest_refusal();
                return Err(full.into());
            }
        };
        committed.await?;
        self.services.metrics.record_spans_committed(count);
        Ok(())
    }
}
