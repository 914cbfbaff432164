//! ember's application layer: one service per resource, between the transports (REST, the web
//! UI, GraphQL, gRPC and those to come) and the store.
//!
//! Each service takes typed inputs and the [`Caller`], and owns its resource's rules: validation,
//! identifier resolution (a project by rowid, GlobalID or name, ...), reserved names, access
//! checks, orchestration across store calls, and keeping CPU work (span preparation) off the
//! async runtime. Each returns typed results or a [`ServiceError`] with an
//! [`ErrorCode`](ember_core::ErrorCode) that every transport maps the same way. Transports parse,
//! call and render; none holds a rule of its own, and none can reach the store: [`Services`]
//! does not hand it out.

pub mod access;
pub mod agent_sql;
pub mod annotation_configs;
pub mod annotations;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod ax_spans;
mod caller;
pub mod costs;
pub mod dataset_labels;
pub mod dataset_splits;
pub mod datasets;
mod error;
pub mod experiments;
pub mod filter_vocabulary;
pub mod ingest;
mod limits;
pub mod mail;
pub mod metrics;
mod ml_batch;
pub mod ml_filters;
pub mod ml_models;
pub mod ml_monitoring;
pub mod playground;
pub mod project_metrics;
pub mod projects;
pub mod prompt_labels;
pub mod prompts;
pub mod redaction;
pub mod retention;
pub mod search;
mod secret_box;
pub mod secrets;
pub mod sessions;
pub mod spaces;
pub mod span_updates;
pub mod spans;
pub mod storage;
pub mod traces;
pub mod users;

use std::sync::Arc;

use ember_store::{IngestQueue, Store};

pub use auth::{AuthSettings, Authenticator};
pub use caller::{Caller, Credential, Role, ADMINS_ONLY};
pub use error::{FieldError, PathSegment, Result, ServiceError};
pub use playground::{Playground, ProviderSettings};
pub use projects::ProjectRef;
pub use secret_box::{SecretBox, UnsealError};

/// Every service over one store and ingest queue. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    store: Store,
    ingest: IngestQueue,
    playground: Arc<Playground>,
    auth: Arc<Authenticator>,
    metrics: metrics::Metrics,
    /// Single ML records' group commit, started on first use (it needs the runtime).
    ml_batcher: Arc<std::sync::OnceLock<ml_batch::MlBatcher>>,
    /// Retention policies an admin asked to apply now, for the sweeper.
    sweep_requests: Arc<retention::SweepRequests>,
    /// The storage limits and their last measurement.
    storage: Arc<storage::StorageGuard>,
    /// Re-pricings of stored spans running in the background.
    repricing: Arc<std::sync::atomic::AtomicUsize>,
    /// The SMTP mailer, when `PHOENIX_SMTP_HOSTNAME` is set.
    mailer: Option<Arc<mail::Mailer>>,
    /// The server's own address, which links in mail start with.
    site_url: Arc<str>,
}

impl Services {
    /// Services without authentication (every caller anonymous); see [`Services::with_auth`].
    pub fn new(store: Store, ingest: IngestQueue, playground: Playground) -> Services {
        let auth = Arc::new(Authenticator::disabled(AuthSettings::default()));
        Services {
            store,
            ingest,
            playground: Arc::new(playground),
            auth,
            metrics: metrics::Metrics::default(),
            ml_batcher: Arc::default(),
            sweep_requests: Arc::default(),
            storage: Arc::default(),
            repricing: Arc::default(),
            mailer: None,
            site_url: Arc::from("http://localhost:6006"),
        }
    }

    /// The same services sending mail through `mailer`.
    pub fn with_mailer(mut self, mailer: Option<mail::Mailer>) -> Services {
        self.mailer = mailer.map(Arc::new);
        self
    }

    /// The same services making links in mail from `site_url` (the server's own address,
    /// configured, never a request's).
    pub fn with_site_url(mut self, site_url: &str) -> Services {
        self.site_url = Arc::from(site_url.trim_end_matches('/'));
        self
    }

    /// Whether mail can be sent (an SMTP server is set).
    pub fn mail_enabled(&self) -> bool {
        self.mailer.is_some()
    }

    /// The same services recording `metrics`.
    pub fn with_metrics(mut self, metrics: metrics::Metrics) -> Services {
        self.metrics = metrics;
        self
    }

    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    /// The metrics in Prometheus' text format (the ingest queue read now); `None` when off.
    pub fn encode_metrics(&self) -> Option<String> {
        self.metrics.encode(self.ingest.queued_spans())
    }

    /// The same services keeping to these storage limits.
    pub fn with_storage(mut self, settings: storage::StorageSettings) -> Services {
        self.storage = Arc::new(storage::StorageGuard::new(settings));
        self
    }

    pub fn storage(&self) -> storage::Storage<'_> {
        storage::Storage { services: self }
    }

    /// The same services authenticating callers as `authenticator` says.
    pub fn with_auth(mut self, authenticator: Authenticator) -> Services {
        self.auth = Arc::new(authenticator);
        self
    }

    pub fn auth(&self) -> auth::Auth<'_> {
        auth::Auth { services: self }
    }

    pub fn audit(&self) -> audit::Audit<'_> {
        audit::Audit { services: self }
    }

    pub fn access(&self) -> access::ProjectAccess<'_> {
        access::ProjectAccess { services: self }
    }

    pub fn agent_sql(&self) -> agent_sql::AgentSql<'_> {
        agent_sql::AgentSql { services: self }
    }

    pub fn api_keys(&self) -> api_keys::ApiKeys<'_> {
        api_keys::ApiKeys { services: self }
    }

    pub fn costs(&self) -> costs::Costs<'_> {
        costs::Costs { services: self }
    }

    pub fn projects(&self) -> projects::Projects<'_> {
        projects::Projects { services: self }
    }

    pub fn spans(&self) -> spans::Spans<'_> {
        spans::Spans { services: self }
    }

    pub fn ax_spans(&self) -> ax_spans::AxSpans<'_> {
        ax_spans::AxSpans { services: self }
    }

    pub fn span_updates(&self) -> span_updates::SpanUpdates<'_> {
        span_updates::SpanUpdates { services: self }
    }

    pub fn ml_models(&self) -> ml_models::MlModels<'_> {
        ml_models::MlModels { services: self }
    }

    pub fn retention(&self) -> retention::Retention<'_> {
        retention::Retention { services: self }
    }

    pub fn traces(&self) -> traces::Traces<'_> {
        traces::Traces { services: self }
    }

    pub fn sessions(&self) -> sessions::Sessions<'_> {
        sessions::Sessions { services: self }
    }

    pub fn annotations(&self) -> annotations::Annotations<'_> {
        annotations::Annotations { services: self }
    }

    pub fn annotation_configs(&self) -> annotation_configs::AnnotationConfigs<'_> {
        annotation_configs::AnnotationConfigs { services: self }
    }

    pub fn datasets(&self) -> datasets::Datasets<'_> {
        datasets::Datasets { services: self }
    }

    pub fn dataset_labels(&self) -> dataset_labels::DatasetLabels<'_> {
        dataset_labels::DatasetLabels { services: self }
    }

    pub fn prompt_labels(&self) -> prompt_labels::PromptLabels<'_> {
        prompt_labels::PromptLabels { services: self }
    }

    pub fn dataset_splits(&self) -> dataset_splits::DatasetSplits<'_> {
        dataset_splits::DatasetSplits { services: self }
    }

    pub fn experiments(&self) -> experiments::Experiments<'_> {
        experiments::Experiments { services: self }
    }

    pub fn prompts(&self) -> prompts::Prompts<'_> {
        prompts::Prompts { services: self }
    }

    pub fn search(&self) -> search::Search<'_> {
        search::Search { services: self }
    }

    pub fn secrets(&self) -> secrets::Secrets<'_> {
        secrets::Secrets { services: self }
    }

    pub fn spaces(&self) -> spaces::Spaces {
        spaces::Spaces
    }

    pub fn playground(&self) -> playground::PlaygroundService<'_> {
        playground::PlaygroundService { services: self }
    }

    pub fn users(&self) -> users::Users<'_> {
        users::Users { services: self }
    }

    pub fn ingest(&self) -> ingest::Ingest<'_> {
        ingest::Ingest { services: self }
    }

    /// Whether the database answers (readiness).
    pub async fn ready(&self) -> Result<()> {
        self.store.get_project(1).await?;
        Ok(())
    }
}
