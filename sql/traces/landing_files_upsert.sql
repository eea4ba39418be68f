-- What one reading of a landing file gave; replaces the file's previous row (its spans are in landed_spans).
INSERT OR REPLACE INTO landing_files
    (source_file, size_bytes, mtime_ns, format, span_count, quarantine_count, days, ingested_at, parquet, indexed,
     expired_at)
VALUES ($source_file, $size_bytes, $mtime_ns, $format, $span_count, $quarantine_count, $days, $ingested_at,
        $parquet, true, NULL);
