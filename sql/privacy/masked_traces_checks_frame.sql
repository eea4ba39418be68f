-- The columns of a day's masked_traces that the Great Expectations suite checks.
SELECT trace_id, CAST(trace_date AS VARCHAR) AS trace_date, user_id, session_id,
       CAST(pii_found AS VARCHAR) AS pii_found
FROM masked_traces
WHERE trace_date = CAST($day AS DATE);
