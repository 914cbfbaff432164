//! The span write path: the bounded [`IngestQueue`](queue::IngestQueue) and its writer tasks,
//! spans prepared for writing off the writer (`prepared`), the batch transaction that stores them
//! (`batch`), the cumulative counts kept right when children arrive before parents
//! (`cumulative`), and the hourly project rollups maintained beside them (`rollups`).

pub(crate) mod batch;
pub(crate) mod cumulative;
pub(crate) mod prepared;
pub(crate) mod queue;
pub(crate) mod rollups;
