//! Spans: keyset-paginated lists and the span-query frame (`reads`), root spans sorted by start
//! time, latency or tokens (`roots`), attribute-free outlines of a trace (`outlines`), filters
//! planned against SQLite's candidate counts (`filter_plan`), metadata updates and deletion by id
//! (`metadata`), and the span record and page every read returns (`records`).

mod filter_plan;
pub(crate) mod metadata;
pub(crate) mod outlines;
mod reads;
pub(crate) mod records;
pub(crate) mod roots;

pub use reads::{AttributeFilter, SpanFilters, SpanQueryOptions};
