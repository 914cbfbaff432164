//! Every setting of `ember serve`, as flags and environment variables (Phoenix's names where
//! Phoenix has one).

use std::path::PathBuf;

use ember_store::{defaults, DatabaseUrl, QueueLimits, StoreError, StoreOptions};

#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// Address the HTTP and gRPC listeners bind to.
    #[arg(long, env = "PHOENIX_HOST", default_value = "0.0.0.0")]
    pub host: String,

    /// HTTP port: REST API, OTLP/HTTP, health. 0 picks a free port.
    #[arg(long, env = "PHOENIX_PORT", default_value_t = 6006)]
    pub port: u16,

    /// OTLP/gRPC port. 0 picks a free port.
    #[arg(long, env = "PHOENIX_GRPC_PORT", default_value_t = 4317)]
    pub grpc_port: u16,

    /// Directory for ember's data; the default database is `<dir>/ember.db`. Defaults to `~/.ember`.
    #[arg(long, env = "PHOENIX_WORKING_DIR")]
    pub working_dir: Option<PathBuf>,

    /// Database URL: `sqlite:////var/lib/ember/ember.db`, `sqlite:///:memory:` or
    /// `postgresql://user:password@host:5432/database`. Takes precedence over the
    /// `PHOENIX_POSTGRES_*` settings and the working directory.
    #[arg(long, env = "PHOENIX_SQL_DATABASE_URL")]
    pub database_url: Option<String>,

    /// PostgreSQL host (optionally `host:port`); with the other `PHOENIX_POSTGRES_*` settings,
    /// an alternative to a database URL.
    #[arg(long, env = "PHOENIX_POSTGRES_HOST")]
    pub postgres_host: Option<String>,

    /// PostgreSQL port.
    #[arg(long, env = "PHOENIX_POSTGRES_PORT")]
    pub postgres_port: Option<u16>,

    /// PostgreSQL user.
    #[arg(long, env = "PHOENIX_POSTGRES_USER")]
    pub postgres_user: Option<String>,

    /// PostgreSQL password.
    #[arg(long, env = "PHOENIX_POSTGRES_PASSWORD", hide_env_values = true)]
    pub postgres_password: Option<String>,

    /// PostgreSQL database name.
    #[arg(long, env = "PHOENIX_POSTGRES_DB")]
    pub postgres_db: Option<String>,

    /// PostgreSQL schema for ember's tables, created when missing (ignored for SQLite).
    #[arg(long, env = "PHOENIX_SQL_DATABASE_SCHEMA")]
    pub database_schema: Option<String>,

    /// A PostgreSQL read replica that serves reads; writes go to the primary.
    #[arg(long, env = "PHOENIX_SQL_DATABASE_READ_REPLICA_URL")]
    pub database_read_replica_url: Option<String>,

    /// Connections in each PostgreSQL pool (the primary's and the replica's).
    #[arg(long, env = "EMBER_DATABASE_POOL_SIZE", default_value_t = defaults::POOL_SIZE)]
    pub database_pool_size: u32,

    /// Most spans accepted and not yet committed; beyond it ingest answers 503 / RESOURCE_EXHAUSTED.
    #[arg(long, env = "PHOENIX_MAX_SPANS_QUEUE_SIZE", default_value_t = defaults::MAX_QUEUED_SPANS)]
    pub max_spans_queue_size: usize,

    /// Most bytes of decoded spans accepted and not yet committed.
    #[arg(long, env = "EMBER_MAX_QUEUE_BYTES", default_value_t = defaults::MAX_QUEUED_BYTES)]
    pub max_queue_bytes: usize,

    /// Most spans the writer commits in one transaction.
    #[arg(long, env = "EMBER_MAX_BATCH_SPANS", default_value_t = defaults::MAX_BATCH_SPANS)]
    pub max_batch_spans: usize,

    /// Span transactions written at once on PostgreSQL (SQLite always writes one at a time).
    #[arg(long, env = "EMBER_INGEST_WRITERS", default_value_t = defaults::INGEST_WRITERS)]
    pub ingest_writers: usize,

    /// Most HTTP connections open at once; a new one past this is closed at once.
    #[arg(long, env = "EMBER_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,

    /// Longest wait for a request head (idle keep-alive connections included) and between two
    /// pieces of a request body; the connection is closed (the body: 408) past it.
    #[arg(long, env = "EMBER_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// SQLite: the write-ahead log's bound in bytes. From three quarters of it the WAL is
    /// checkpointed whole and emptied (ingest pauses for the copy), so it stays under the bound
    /// with steady ingest and readers.
    #[arg(long, env = "EMBER_SQLITE_MAX_WAL_BYTES", default_value_t = defaults::MAX_WAL_BYTES)]
    pub sqlite_max_wal_bytes: u64,

    /// Price LLM spans at ingest (the built-in price table and user-defined prices) and keep
    /// their cost in the rollups. Off: no cost is recorded for spans ingested meanwhile.
    #[arg(long, env = "EMBER_COST_TRACKING", default_value_t = true, action = clap::ArgAction::Set)]
    pub cost_tracking: bool,

    /// Storage allocated to the database, in GiB (Phoenix's setting): the warning and
    /// insertion-blocking thresholds below are percentages of it.
    #[arg(long, env = "PHOENIX_DATABASE_ALLOCATED_STORAGE_CAPACITY_GIBIBYTES")]
    pub database_allocated_storage_capacity_gibibytes: Option<f64>,

    /// Past this percentage of the allocated capacity ember logs a warning and the web UI shows
    /// a banner.
    #[arg(long, env = "PHOENIX_DATABASE_USAGE_EMAIL_WARNING_THRESHOLD_PERCENTAGE")]
    pub database_usage_email_warning_threshold_percentage: Option<f64>,

    /// Past this percentage of the allocated capacity ingest is refused (507 /
    /// RESOURCE_EXHAUSTED) until space is freed; reads and deletions go on.
    #[arg(long, env = "PHOENIX_DATABASE_USAGE_INSERTION_BLOCKING_THRESHOLD_PERCENTAGE")]
    pub database_usage_insertion_blocking_threshold_percentage: Option<f64>,

    /// A byte budget for the database: past it the oldest traces of every project are deleted
    /// (the project charts keep counting them) until it is back under 90 % of it.
    #[arg(long, env = "EMBER_MAX_DATABASE_BYTES")]
    pub max_database_bytes: Option<u64>,

    /// SQLite: below this many free bytes on the database's disk, a warning and a banner.
    #[arg(long, env = "EMBER_DISK_FREE_WARNING_BYTES", default_value_t = defaults::DISK_FREE_WARNING_BYTES)]
    pub disk_free_warning_bytes: u64,

    /// SQLite: below this many free bytes on the database's disk, ingest is refused (507 /
    /// RESOURCE_EXHAUSTED) before the disk fills; reads and deletions go on.
    #[arg(long, env = "EMBER_DISK_FREE_MIN_BYTES", default_value_t = defaults::DISK_FREE_MIN_BYTES)]
    pub disk_free_min_bytes: u64,

    /// Days the default retention policy keeps traces (0: for ever), used when that policy is
    /// first created; afterwards it is edited like any policy (`/v1/retention_policies`).
    #[arg(long, env = "PHOENIX_DEFAULT_RETENTION_POLICY_DAYS", default_value_t = 0.0)]
    pub default_retention_policy_days: f64,

    /// Longest wait, on SIGTERM, for in-flight requests and then for the ingest queue to drain.
    #[arg(long, env = "EMBER_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,

    /// Origins (comma-separated, e.g. `https://app.example`) whose browser pages may read ember's
    /// answers (CORS, with credentials) and write to it besides its own pages; other sites'
    /// writes get 403.
    #[arg(long, env = "PHOENIX_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// The path prefix ember is served under behind a reverse proxy (e.g. `/phoenix`): requests
    /// are served with or without it, and the web UI's links and redirects carry it.
    #[arg(long, env = "PHOENIX_HOST_ROOT_PATH")]
    pub host_root_path: Option<String>,

    /// The address people reach ember at (e.g. `https://ember.example.com/phoenix`), for the
    /// links in mail; by default this server's host and port.
    #[arg(long, env = "PHOENIX_ROOT_URL")]
    pub root_url: Option<String>,

    /// The SMTP server and sender of welcome and password-reset mail.
    #[command(flatten)]
    pub mail: ember_service::mail::MailSettings,

    /// Signing in against an LDAP directory.
    #[command(flatten)]
    pub ldap: ember_service::auth::ldap::LdapSettings,

    /// Origins (comma-separated URLs) trusted to send requests from a browser: with any set, a
    /// request whose `Origin` or `Referer` names another host is refused with 401.
    #[arg(long, env = "PHOENIX_CSRF_TRUSTED_ORIGINS", value_delimiter = ',')]
    pub csrf_trusted_origins: Vec<String>,

    /// Largest request body, counted after decompression; larger bodies get 413.
    #[arg(long, env = "EMBER_MAX_BODY_BYTES", default_value_t = 64 << 20)]
    pub max_body_bytes: usize,

    /// Request-body bytes all requests together may hold in memory (each reserves its
    /// `Content-Length`, or `EMBER_MAX_BODY_BYTES` when the length is unknown or the body is
    /// compressed); past it requests get 503 with `Retry-After`.
    #[arg(long, env = "EMBER_MAX_BODY_BYTES_IN_FLIGHT", default_value_t = 512 << 20)]
    pub max_body_bytes_in_flight: usize,

    /// Largest file a dataset upload form may carry, counted after decompression. Upload files
    /// are spooled to a temporary file and parsed as they are written, never held in memory.
    #[arg(long, env = "EMBER_MAX_UPLOAD_BYTES", default_value_t = 4 << 30)]
    pub max_upload_bytes: u64,

    /// Largest gRPC message accepted (Phoenix: 4 MiB).
    #[arg(long, env = "EMBER_GRPC_MAX_MESSAGE_BYTES", default_value_t = 64 << 20)]
    pub grpc_max_message_bytes: usize,

    /// Largest Arrow Flight message accepted (the `arize` SDK sends record batches of up to
    /// 256 MiB; each is held in memory while it is applied).
    #[arg(long, env = "EMBER_FLIGHT_MAX_MESSAGE_BYTES", default_value_t = 512 << 20)]
    pub flight_max_message_bytes: usize,

    /// How long a span, trace or session list (with or without a filter) or a span query may run
    /// before it is cancelled with a 503 naming the budget.
    #[arg(long, env = "EMBER_QUERY_TIMEOUT_MS", default_value_t = defaults::QUERY_BUDGET_MS)]
    pub query_timeout_ms: u64,

    /// Connections in the database read pool.
    #[arg(long, env = "EMBER_READ_CONNECTIONS", default_value_t = defaults::READ_CONNECTIONS)]
    pub read_connections: u32,

    /// Phoenix's server secret: at least 32 characters with a digit and a lowercase letter
    /// (checked at startup, as Phoenix checks it), required with `PHOENIX_ENABLE_AUTH`. When set,
    /// secrets stored through `PUT /v1/secrets` are sealed with a key derived from it; without it
    /// they are stored as given.
    #[arg(long, env = "PHOENIX_SECRET", hide_env_values = true)]
    pub phoenix_secret: Option<String>,

    /// Phoenix's admin secret, a bearer token that acts as the SYSTEM user once authentication
    /// is enforced. Held to `PHOENIX_SECRET`'s rules, different from it, and only with it.
    #[arg(long, env = "PHOENIX_ADMIN_SECRET", hide_env_values = true)]
    pub admin_secret: Option<String>,

    /// Where the playground's providers are and the keys to call them with.
    #[command(flatten)]
    pub providers: ember_service::ProviderSettings,

    /// Serve HTTP and gRPC over TLS (needs `--tls-cert-file` and `--tls-key-file`).
    #[arg(long, env = "PHOENIX_TLS_ENABLED", default_value_t = false)]
    pub tls_enabled: bool,

    /// Serve HTTP over TLS (gRPC too only with `--tls-enabled` or `--tls-enabled-for-grpc`).
    #[arg(long, env = "PHOENIX_TLS_ENABLED_FOR_HTTP", default_value_t = false)]
    pub tls_enabled_for_http: bool,

    /// Serve gRPC over TLS.
    #[arg(long, env = "PHOENIX_TLS_ENABLED_FOR_GRPC", default_value_t = false)]
    pub tls_enabled_for_grpc: bool,

    /// The server's certificate chain (PEM).
    #[arg(long, env = "PHOENIX_TLS_CERT_FILE")]
    pub tls_cert_file: Option<PathBuf>,

    /// The server's private key (PEM; an encrypted PKCS#8 key needs the password below).
    #[arg(long, env = "PHOENIX_TLS_KEY_FILE")]
    pub tls_key_file: Option<PathBuf>,

    /// The password of an encrypted private key.
    #[arg(long, env = "PHOENIX_TLS_KEY_FILE_PASSWORD", hide_env_values = true)]
    pub tls_key_file_password: Option<String>,

    /// The CA (PEM) that signs client certificates, for `--tls-verify-client`.
    #[arg(long, env = "PHOENIX_TLS_CA_FILE")]
    pub tls_ca_file: Option<PathBuf>,

    /// Mutual TLS: clients must present a certificate signed by `--tls-ca-file`.
    #[arg(long, env = "PHOENIX_TLS_VERIFY_CLIENT", default_value_t = false)]
    pub tls_verify_client: bool,

    /// Require every request to be authenticated (an API key, a signed-in session, or the admin
    /// secret), with roles deciding who may write and administer. Needs `PHOENIX_SECRET`.
    #[arg(long, env = "PHOENIX_ENABLE_AUTH", default_value_t = false)]
    pub enable_auth: bool,

    /// Do not limit how often one client address may call the sign-in routes (Phoenix's limit:
    /// 12 at once, then one every 5 seconds; past it 429).
    #[arg(long, env = "PHOENIX_DISABLE_RATE_LIMIT", default_value_t = false)]
    pub disable_rate_limit: bool,

    /// Serve the Model Context Protocol at `/mcp` (Streamable HTTP) for coding agents, with the
    /// same authentication and access as the REST API.
    #[arg(long, env = "PHOENIX_ENABLE_MCP_SERVER", default_value_t = true, action = clap::ArgAction::Set)]
    pub enable_mcp_server: bool,

    /// How long an MCP `run_sql` query may run before it is cancelled (milliseconds).
    #[arg(long, env = "EMBER_MCP_SQL_TIMEOUT_MS", default_value_t = 5000)]
    pub mcp_sql_timeout_ms: u64,

    /// Serve Prometheus metrics (requests per route and their latency, spans committed, the
    /// ingest queue, refusals, sign-ins) at `/metrics` on their own port.
    #[arg(long, env = "PHOENIX_ENABLE_PROMETHEUS", default_value_t = false)]
    pub enable_prometheus: bool,

    /// The port of the Prometheus metrics (Phoenix's is 9090).
    #[arg(long, env = "EMBER_PROMETHEUS_PORT", default_value_t = 9090)]
    pub prometheus_port: u16,

    /// Sign-in, sessions and passwords.
    #[command(flatten)]
    pub auth: ember_service::AuthSettings,

    /// Mark session cookies `Secure` (sent over HTTPS only).
    #[arg(long, env = "PHOENIX_USE_SECURE_COOKIES", default_value_t = false)]
    pub use_secure_cookies: bool,

    /// The path session cookies are set for (serving under a path prefix).
    #[arg(long, env = "PHOENIX_COOKIES_PATH", default_value = "/")]
    pub cookies_path: String,
}

impl ServeConfig {
    /// Why ember refuses to serve as configured: secrets Phoenix would refuse (in Phoenix's
    /// words), or a setting that asks for something ember does not do yet.
    pub fn refusal(&self) -> Option<String> {
        let secrets = crate::secret_rules::refusal(self.phoenix_secret.as_deref(), self.admin_secret.as_deref(), self.enable_auth);
        secrets
            .or_else(|| self.auth.refusal())
            .or_else(|| self.ldap.directory_config().err())
            .or_else(|| self.oauth2_providers().err())
            .or_else(|| self.tls_files().err())
            .or_else(|| self.storage_refusal())
            .or_else(|| self.site_url().err())
    }

    /// The address links in mail start with: `PHOENIX_ROOT_URL`, else this server's own scheme,
    /// host (`localhost` for a wildcard address), port and root path. Never a request's headers,
    /// which a caller could set to have a reset link point elsewhere.
    pub fn site_url(&self) -> Result<String, String> {
        if let Some(root_url) = self.root_url.as_deref().map(str::trim).filter(|url| !url.is_empty()) {
            let valid = root_url
                .parse::<axum::http::Uri>()
                .is_ok_and(|uri| matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some_and(|host| !host.is_empty()));
            if !valid {
                return Err("The environment variable `PHOENIX_ROOT_URL` must be a valid URL.".into());
            }
            return Ok(root_url.trim_end_matches('/').to_string());
        }
        let host = match self.host.as_str() {
            "0.0.0.0" | "::" | "[::]" | "" => "localhost",
            host => host,
        };
        let scheme = if self.tls_for_http() { "https" } else { "http" };
        let root_path = self.host_root_path.as_deref().unwrap_or_default().trim_end_matches('/');
        Ok(format!("{scheme}://{host}:{}{root_path}", self.port))
    }

    /// Storage settings out of range, in Phoenix's words.
    fn storage_refusal(&self) -> Option<String> {
        if self.max_database_bytes.is_some_and(|bytes| bytes > 0) && matches!(self.database(), Ok(DatabaseUrl::Postgres(_))) {
            return Some(
                "EMBER_MAX_DATABASE_BYTES needs SQLite: PostgreSQL keeps its tables' size after rows are deleted (only VACUUM FULL \
                 returns it), so ember could not tell when the database is back under the budget. Use a retention policy \
                 (max_days or max_count) instead."
                    .into(),
            );
        }
        if let Some(capacity) = self.database_allocated_storage_capacity_gibibytes.filter(|capacity| capacity.is_nan() || *capacity <= 0.0)
        {
            return Some(format!(
                "Invalid value for environment variable PHOENIX_DATABASE_ALLOCATED_STORAGE_CAPACITY_GIBIBYTES: {capacity}. Value must be a positive number."
            ));
        }
        for (name, value) in [
            ("PHOENIX_DATABASE_USAGE_EMAIL_WARNING_THRESHOLD_PERCENTAGE", self.database_usage_email_warning_threshold_percentage),
            ("PHOENIX_DATABASE_USAGE_INSERTION_BLOCKING_THRESHOLD_PERCENTAGE", self.database_usage_insertion_blocking_threshold_percentage),
        ] {
            if let Some(value) = value.filter(|value| !(0.0..=100.0).contains(value)) {
                return Some(format!(
                    "Invalid value for environment variable {name}: {value}. Value must be a percentage between 0 and 100."
                ));
            }
        }
        None
    }

    /// The storage limits (see `ember_service::storage`).
    pub fn storage_settings(&self) -> ember_service::storage::StorageSettings {
        ember_service::storage::StorageSettings {
            capacity_gib: self.database_allocated_storage_capacity_gibibytes,
            warning_percent: self.database_usage_email_warning_threshold_percentage,
            blocking_percent: self.database_usage_insertion_blocking_threshold_percentage,
            max_database_bytes: self.max_database_bytes.filter(|bytes| *bytes > 0),
            disk_free_warning_bytes: self.disk_free_warning_bytes,
            disk_free_min_bytes: self.disk_free_min_bytes,
        }
    }

    pub fn tls_for_http(&self) -> bool {
        self.tls_enabled || self.tls_enabled_for_http
    }

    pub fn tls_for_grpc(&self) -> bool {
        self.tls_enabled || self.tls_enabled_for_grpc
    }

    /// The TLS files when TLS is on for either port, or what is missing (Phoenix's messages).
    pub fn tls_files(&self) -> Result<Option<crate::tls::TlsFiles>, String> {
        if !(self.tls_for_http() || self.tls_for_grpc()) {
            return Ok(None);
        }
        let present = |path: &Option<PathBuf>| path.clone().filter(|path| !path.as_os_str().is_empty());
        let cert_file = present(&self.tls_cert_file).ok_or("PHOENIX_TLS_CERT_FILE must be set when PHOENIX_TLS_ENABLED is true")?;
        let key_file = present(&self.tls_key_file).ok_or("PHOENIX_TLS_KEY_FILE must be set when PHOENIX_TLS_ENABLED is true")?;
        let client_ca_file = match self.tls_verify_client {
            true => Some(present(&self.tls_ca_file).ok_or("PHOENIX_TLS_CA_FILE must be set when PHOENIX_TLS_VERIFY_CLIENT is true")?),
            false => None,
        };
        Ok(Some(crate::tls::TlsFiles { cert_file, key_file, key_file_password: self.tls_key_file_password.clone(), client_ca_file }))
    }

    /// Who callers are, as the authentication settings say (`Err` naming an LDAP setting or
    /// certificate file that cannot be used).
    pub fn authenticator(&self) -> Result<ember_service::Authenticator, String> {
        let directory = self.ldap.directory_config()?.map(ember_service::auth::ldap::Directory::new).transpose()?;
        let authenticator = ember_service::Authenticator::new(
            self.enable_auth,
            self.phoenix_secret.as_deref(),
            self.admin_secret.as_deref(),
            self.auth.clone(),
        );
        let providers = self.oauth2_providers()?.into_iter().map(ember_service::auth::oauth2::Provider::new).collect::<Result<_, _>>()?;
        Ok(authenticator.with_directory(directory).with_oauth2_providers(providers))
    }

    /// The OpenID providers of the environment's `PHOENIX_OAUTH2_{IDP}_*` variables (their names
    /// are the operator's, so they cannot be flags).
    pub fn oauth2_providers(&self) -> Result<Vec<ember_service::auth::oauth2::ProviderSettings>, String> {
        ember_service::auth::oauth2::providers_from_env(std::env::vars())
    }

    pub fn cookies(&self) -> crate::session_cookies::CookieSettings {
        crate::session_cookies::CookieSettings { path: self.cookies_path.clone(), secure: self.use_secure_cookies }
    }

    /// The database to open: `PHOENIX_SQL_DATABASE_URL`, else the `PHOENIX_POSTGRES_*`
    /// settings when a host is set, else `<working dir>/ember.db`.
    pub fn database(&self) -> Result<DatabaseUrl, StoreError> {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => DatabaseUrl::parse(url),
            _ => match self.postgres_host.as_deref().filter(|host| !host.trim().is_empty()) {
                Some(host) => DatabaseUrl::parse(&self.postgres_url(host.trim())),
                None => Ok(DatabaseUrl::default_for(&self.working_dir())),
            },
        }
    }

    /// `postgresql://user:password@host:port/db` from the `PHOENIX_POSTGRES_*` settings.
    fn postgres_url(&self, host: &str) -> String {
        use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
        let encode = |text: &str| utf8_percent_encode(text, NON_ALPHANUMERIC).to_string();
        let credentials = match (&self.postgres_user, &self.postgres_password) {
            (Some(user), Some(password)) => format!("{}:{}@", encode(user), encode(password)),
            (Some(user), None) => format!("{}@", encode(user)),
            (None, _) => String::new(),
        };
        let port = match self.postgres_port {
            Some(port) if !host.contains(':') => format!(":{port}"),
            _ => String::new(),
        };
        let database = self.postgres_db.as_deref().map(|db| format!("/{}", encode(db))).unwrap_or_default();
        format!("postgresql://{credentials}{host}{port}{database}")
    }

    /// How to open the store.
    pub fn store_options(&self) -> Result<StoreOptions, StoreError> {
        let mut options = StoreOptions::new(self.database()?);
        options.read_connections = self.read_connections;
        options.pool_size = self.database_pool_size;
        options.query_budget = std::time::Duration::from_millis(self.query_timeout_ms.max(1));
        options.schema = self.database_schema.clone().filter(|schema| !schema.trim().is_empty());
        options.read_replica_url = self.database_read_replica_url.clone().filter(|url| !url.trim().is_empty());
        options.max_wal_bytes = self.sqlite_max_wal_bytes;
        options.cost_tracking = self.cost_tracking;
        Ok(options)
    }

    pub fn working_dir(&self) -> PathBuf {
        self.working_dir
            .clone()
            .unwrap_or_else(|| std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".ember"))
    }

    pub fn queue_limits(&self) -> QueueLimits {
        QueueLimits {
            max_spans: self.max_spans_queue_size.max(1),
            max_bytes: self.max_queue_bytes.max(1),
            max_batch_spans: self.max_batch_spans.max(1),
            writers: self.ingest_writers.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: ServeConfig,
    }

    #[test]
    fn flags_parse_and_phoenix_defaults_hold() {
        let cli = Cli::try_parse_from(["ember", "--port", "7000", "--database-url", "sqlite:////tmp/e.db", "--max-spans-queue-size", "5"])
            .unwrap();
        assert_eq!(cli.config.port, 7000);
        assert_eq!(cli.config.grpc_port, 4317);
        assert_eq!(cli.config.database().unwrap(), DatabaseUrl::SqliteFile("/tmp/e.db".into()));
        assert_eq!(cli.config.queue_limits().max_spans, 5);
        assert!(Cli::try_parse_from(["ember", "--port", "not-a-port"]).is_err());
    }

    #[test]
    fn the_working_directory_holds_the_default_database() {
        let cli = Cli::try_parse_from(["ember", "--working-dir", "/data/ember"]).unwrap();
        assert_eq!(cli.config.database().unwrap(), DatabaseUrl::SqliteFile("/data/ember/ember.db".into()));
        let cli = Cli::try_parse_from(["ember", "--working-dir", "/data/ember", "--database-url", "postgresql://u@h/db"]).unwrap();
        assert_eq!(cli.config.database().unwrap(), DatabaseUrl::Postgres("postgresql://u@h/db".into()));
    }

    #[test]
    fn postgres_settings_build_a_url_and_the_url_wins() {
        let cli = Cli::try_parse_from([
            "ember",
            "--postgres-host",
            "db.internal",
            "--postgres-port",
            "5433",
            "--postgres-user",
            "ember",
            "--postgres-password",
            "p@ss/word",
            "--postgres-db",
            "traces",
            "--database-schema",
            "team_a",
        ])
        .unwrap();
        let options = cli.config.store_options().unwrap();
        assert_eq!(options.url, DatabaseUrl::Postgres("postgresql://ember:p%40ss%2Fword@db.internal:5433/traces".into()));
        assert_eq!(options.schema.as_deref(), Some("team_a"));
        let cli = Cli::try_parse_from(["ember", "--postgres-host", "h:6000", "--database-url", "sqlite:////tmp/e.db"]).unwrap();
        assert_eq!(cli.config.database().unwrap(), DatabaseUrl::SqliteFile("/tmp/e.db".into()));
        let cli = Cli::try_parse_from(["ember", "--postgres-host", "h:6000", "--postgres-port", "1"]).unwrap();
        assert_eq!(cli.config.database().unwrap(), DatabaseUrl::Postgres("postgresql://h:6000".into()));
    }
}
