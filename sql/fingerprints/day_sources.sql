-- What the rollup of $day reads, as the file cache records it: every landing file holding a span of a trace
-- that has a span starting on $day (whatever file or day its other spans arrived in: the candidates of
-- traces/day_candidates.sql), with its size, modification time and cached Parquet. A new, changed or late file
-- for the day changes these rows.
SELECT source_file, size_bytes, mtime_ns, parquet, CAST(expired_at AS VARCHAR) AS expired_at
FROM landing_files
WHERE source_file IN (
    SELECT DISTINCT source_file FROM landed_spans
    WHERE trace_id IN (SELECT trace_id FROM landed_spans WHERE span_date = $day)
)
ORDER BY source_file;
