-- The columns of a day's raw_traces that the Great Expectations suite checks (ids, dates, numbers: no text).
SELECT trace_id, CAST(trace_date AS VARCHAR) AS trace_date, latency_ms, status
FROM raw_traces
WHERE trace_date = CAST($day AS DATE);
