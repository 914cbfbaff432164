//! State shared by every handler, passed explicitly.

use ember_store::{IngestQueue, Store};

use crate::playground::Playground;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub ingest: IngestQueue,
    /// Largest request body after decompression.
    pub max_body_bytes: usize,
    /// Largest dataset upload file after decompression.
    pub max_upload_bytes: u64,
    /// The playground's provider client and settings.
    pub playground: Playground,
}
