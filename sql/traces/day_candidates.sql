-- Every landed copy of every span of the traces that have a span starting on $day, whatever file or day the
-- others arrived in (narrow columns from landed_spans: the wide text stays in the Parquet cache until it is
-- copied once into spans). A trace belongs to the day its root started, and its root is one of its spans, so
-- these are all the traces that can belong to $day.
CREATE OR REPLACE TEMP TABLE day_spans_all AS
SELECT trace_id, span_id, parent_span_id, start_ns, end_ns, source_file, source_index
FROM landed_spans
WHERE trace_id IN (SELECT trace_id FROM landed_spans WHERE span_date = $day);
