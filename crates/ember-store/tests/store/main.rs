//! The store on every backend: one suite (`suite`) instantiated on SQLite and on PostgreSQL,
//! beside each backend's own tests.

#[macro_use]
mod suite;
mod postgres;
mod sqlite;
