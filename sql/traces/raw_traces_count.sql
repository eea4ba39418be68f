-- How many traces a day holds.
SELECT count(*)
FROM raw_traces
WHERE trace_date = $day;
