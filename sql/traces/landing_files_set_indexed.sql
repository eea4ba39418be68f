-- A cached file's spans are now in landed_spans.
UPDATE landing_files
SET indexed = true
WHERE source_file = $source_file;
