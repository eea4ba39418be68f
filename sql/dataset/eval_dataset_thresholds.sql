-- The day's latency quantiles over the eligible traces. Parameters: $latency_quantiles (DOUBLE[]).
SELECT quantile_cont(latency_ms, CAST($latency_quantiles AS DOUBLE[])) AS thresholds
FROM eval_eligible
WHERE request_key IS NOT NULL;
