-- Metadata keys set on spans after ingestion (the Arize AX span metadata updates), merged over
-- the span's `metadata` attribute wherever attributes are read (`ember_json(attributes, patch)`,
-- `ember_attributes(attributes, patch)`). A bulk update writes these small rows instead of
-- decompressing, rewriting and recompressing every span's attributes, which costs a 16 KiB
-- page write per span.
CREATE TABLE span_metadata_patches (
    span_rowid INTEGER PRIMARY KEY REFERENCES spans (id) ON DELETE CASCADE,
    -- A JSON object: metadata key -> value, applied in order over the stored metadata.
    patch TEXT NOT NULL
);
