-- zstd dictionaries trained on this database's span attributes; stored values name theirs by id.
CREATE TABLE attribute_dictionaries (
    id INTEGER PRIMARY KEY,
    dictionary BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
