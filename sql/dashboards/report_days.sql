-- Every day with dashboard figures, newest first, for the report index.
SELECT trace_date, traces, error_rate, latency_p95_ms, dataset_records
FROM daily_metrics
ORDER BY trace_date DESC;
