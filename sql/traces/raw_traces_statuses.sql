-- A day's traces by status (ok, error).
SELECT status, count(*) AS traces
FROM raw_traces
WHERE trace_date = $day
GROUP BY status;
