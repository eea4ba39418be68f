-- A landed file whose spans retention dropped: no Parquet any more, and not read again unless it changes.
UPDATE landing_files
SET parquet = NULL, expired_at = $at
WHERE source_file = $source_file;
