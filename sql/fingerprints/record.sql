-- $step built (or evaluated) $day from inputs with fingerprint $fingerprint: replaces what it recorded before.
INSERT OR REPLACE INTO input_fingerprints (step, trace_date, fingerprint, run_id, built_at, row_counts, figures)
VALUES ($step, $day, $fingerprint, $run_id, now()::TIMESTAMP, $row_counts, $figures);
