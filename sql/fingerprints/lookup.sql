-- The fingerprint $step last recorded for $day, with the run, the row counts and the figures of then.
SELECT fingerprint, run_id, built_at, row_counts, figures
FROM input_fingerprints
WHERE step = $step AND trace_date = $day;
