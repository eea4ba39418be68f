-- The day's eligible traces per cell (tool signature x status x latency tier x model): what the merge rule
-- (eval_pipeline.lib.strata) turns into strata. Reads the temp table eval_eligible.
-- Parameters: $latency_thresholds (DOUBLE[]), $tier_labels (VARCHAR[], one more than the thresholds).
SELECT tool_signature, status,
       latency_tier(latency_ms, CAST($latency_thresholds AS DOUBLE[]), $tier_labels) AS latency_tier,
       model, count(*) AS traces
FROM eval_eligible
WHERE request_key IS NOT NULL
GROUP BY ALL;
