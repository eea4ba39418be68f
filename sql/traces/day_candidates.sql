-- Every landed copy of every span of the traces that have a span starting on $day (narrow columns:
-- the wide text stays in the Parquet cache until it is copied once into spans).
-- (A trace belongs to the day its root started; its other spans may start on the next day.)
CREATE OR REPLACE TEMP TABLE day_spans_all AS
SELECT trace_id, span_id, parent_span_id, start_ns, end_ns, source_file, source_position, source_index
FROM read_parquet($files)
WHERE trace_id IN (SELECT trace_id FROM read_parquet($files) WHERE span_date = $day);
