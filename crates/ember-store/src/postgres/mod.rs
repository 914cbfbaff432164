//! What only PostgreSQL has: opening the pools (primary and read replica) and running the
//! migrations under an advisory lock, so several replicas may start at once.

mod open;

pub(crate) use open::open;
