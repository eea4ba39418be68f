-- Traffic figures for the 30 days ending $day, each with its trailing 7-day mean.
SELECT trace_date, traces, error_rate, latency_p50_ms, latency_p95_ms, latency_p99_ms, input_tokens,
       output_tokens, quarantined, dataset_records,
       avg(error_rate) OVER w AS error_rate_trailing7, avg(latency_p95_ms) OVER w AS latency_p95_trailing7
FROM daily_metrics
WHERE trace_date BETWEEN CAST($day AS DATE) - 29 AND $day
WINDOW w AS (ORDER BY trace_date ROWS BETWEEN 7 PRECEDING AND 1 PRECEDING)
ORDER BY trace_date;
