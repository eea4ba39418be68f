-- The eligible traffic per cell over [$start, $end] (from the selections' bookkeeping).
SELECT tool_signature, status, latency_tier, model, sum(traces) AS traces
FROM eval_dataset_cells
WHERE trace_date BETWEEN $start AND $end
GROUP BY ALL;
