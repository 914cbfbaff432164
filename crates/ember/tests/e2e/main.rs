//! The real `ember` binary over real sockets, one test binary: ingest and durability
//! (`ingest`), its client commands (`cli`), the playground relaying a provider's stream
//! (`playground`), welcome and password-reset mail over a real SMTP server (`mail`), memory under amplification (`resources`), and the web UI in headless
//! Chromium (`browser`). Arrow Flight as the `arize` SDK calls it (`flight`). `process` starts the binary. Tests that need PostgreSQL or chromedriver are skipped without them, unless
//! `EMBER_TEST_REQUIRE_ALL` is set (see `ember_store::testing::skip_unless`).

mod auth;
mod browser;
mod cli;
mod flight;
mod ingest;
mod ldap;
mod mail;
mod metrics;
mod oidc;
mod playground;
mod process;
mod resources;
mod root_path;
mod tls;
