-- The rows a selection may read: masked_traces only, narrowed by the configured predicate
-- (sampling.filters.where). The predicate is code, not a value, so it cannot be a bound parameter:
-- eval_pipeline.lib.sampling checks that it is one expression over masked_traces columns without
-- subqueries before it takes the marker's place.
CREATE OR REPLACE TEMP VIEW eval_source AS
SELECT * FROM masked_traces WHERE (/* predicate */ TRUE);
