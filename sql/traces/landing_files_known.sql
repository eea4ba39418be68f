-- What was read of each landing file: its size and modification time then, its span count, the Parquet
-- holding its spans and whether retention expired them (a file is read again when any of these no longer holds).
SELECT source_file, size_bytes, mtime_ns, span_count, parquet, expired_at
FROM landing_files;
