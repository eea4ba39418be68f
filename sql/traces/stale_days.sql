-- Days other than $day holding traces that the files just read ($files) add spans to: built before, now
-- out of date (late spans, a root that moves the trace to another day). Days retention expired are left alone.
SELECT DISTINCT trace_date
FROM raw_traces
WHERE trace_date <> $day
  AND trace_date NOT IN (SELECT trace_date FROM expired_days)
  AND trace_id IN (SELECT trace_id FROM landed_spans WHERE source_file IN (SELECT unnest($files)))
ORDER BY trace_date;
