-- The day's cells and the stratum each was merged into (bookkeeping for the drift check, which bins
-- the trailing days' traffic by cell). Parameters: $day.
INSERT INTO eval_dataset_cells BY NAME
SELECT CAST($day AS DATE) AS trace_date, tool_signature, status, latency_tier, model, stratum, traces
FROM eval_cells;
