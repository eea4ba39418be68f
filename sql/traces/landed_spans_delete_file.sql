-- A file read again (or expired) replaces (or drops) its spans' narrow rows.
DELETE FROM landed_spans
WHERE source_file = $source_file;
