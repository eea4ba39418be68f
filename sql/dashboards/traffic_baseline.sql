-- $day's traffic figures next to their trailing 7-day means, and each judge's unknown rate and
-- spend per judged record today and over the trailing days.
SELECT
    any_value(error_rate) FILTER (WHERE trace_date = $day) AS error_rate,
    avg(error_rate) FILTER (WHERE trace_date < $day) AS error_rate_baseline,
    any_value(latency_p95_ms) FILTER (WHERE trace_date = $day) AS latency_p95_ms,
    avg(latency_p95_ms) FILTER (WHERE trace_date < $day) AS latency_p95_baseline,
    count(*) FILTER (WHERE trace_date < $day) AS baseline_days
FROM daily_metrics
WHERE trace_date BETWEEN CAST($day AS DATE) - 7 AND $day;
