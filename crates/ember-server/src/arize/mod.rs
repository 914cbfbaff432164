//! What the `arize` SDK needs beyond REST: its protobuf messages, its span tables and its ML
//! records. The routes that use them are `routes::pandas_arrow` (table uploads),
//! `routes::arize_ml` (`/v1/log`) and, for REST, `routes::arize_v2` and `routes::arize_spans`.

#[cfg(feature = "arrow")]
pub mod ml_export;
pub mod ml_record;
#[cfg(feature = "arrow")]
pub mod ml_table;
pub mod proto;
pub mod span_table;

/// Paths where the SDK sends its key bare (`authorization: <key>`, without `Bearer`): its
/// uploads. Elsewhere, as in Phoenix, an `Authorization` header of another scheme presents
/// nothing.
pub const BARE_KEY_PATHS: [&str; 2] = ["/v1/pandas_arrow", "/v1/log"];
