-- A day is rebuilt whole: its traces go first (in the same transaction as the insert).
DELETE FROM raw_traces
WHERE trace_date = $day;
