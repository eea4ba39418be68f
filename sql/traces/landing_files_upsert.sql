-- What one reading of a landing file gave; replaces the file's previous row.
INSERT OR REPLACE INTO landing_files
    (source_file, size_bytes, mtime_ns, format, span_count, quarantine_count, days, ingested_at, parquet)
VALUES ($source_file, $size_bytes, $mtime_ns, $format, $span_count, $quarantine_count, $days, $ingested_at,
        $parquet);
