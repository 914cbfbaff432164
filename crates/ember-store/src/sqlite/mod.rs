//! What only SQLite has: opening the database (`open`: one writer connection, read-only
//! readers, WAL), the attribute storage format and its trained dictionary (`codec`), the SQL
//! functions registered on every connection (`functions`), one-row writes committed together
//! (`group_commit`), WAL checkpoints on a connection of their own (`checkpoint`), the index of
//! attribute values filters use (`attribute_index`), and metadata patches beside stored
//! attributes (`metadata_patch`).

pub(crate) mod attribute_index;
pub(crate) mod checkpoint;
pub(crate) mod codec;
pub(crate) mod functions;
pub(crate) mod group_commit;
pub(crate) mod metadata_patch;
mod open;

pub(crate) use open::open;
