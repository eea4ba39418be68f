-- Every landed copy of every span of the traces that have a span starting on $day.
-- (A trace belongs to the day its root started; its other spans may start on the next day.)
CREATE OR REPLACE TEMP TABLE day_spans_all AS
SELECT s.*
FROM landed_spans AS s
WHERE s.trace_id IN (SELECT trace_id FROM landed_spans WHERE span_date = $day);
