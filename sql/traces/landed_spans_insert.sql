-- The narrow row of every span a file's Parquet holds: what the day rollup joins traces on.
INSERT INTO landed_spans
SELECT source_file, source_index, trace_id, span_id, parent_span_id, start_ns, end_ns, span_date
FROM read_parquet($parquet);
