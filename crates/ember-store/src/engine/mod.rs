//! The engine under every resource: the [`Store`](db::Store) handle and its options, the pools,
//! transactions and statements of both backends (`backend`), the dialect (`dialect`, from
//! `ember_query::schema`), the database url, the query plans of recorded reads for the plan test (`plans`), and the sea-query names of the tables (`schema`).

pub(crate) mod backend;
pub(crate) mod db;
pub(crate) mod dialect;
pub(crate) mod plans;
pub(crate) mod schema;
pub(crate) mod url;
