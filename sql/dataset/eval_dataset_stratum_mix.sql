-- The eligible traffic per stratum over [$start, $end] (from the selections' bookkeeping).
SELECT stratum, sum(traces) AS traces
FROM eval_dataset_strata
WHERE trace_date BETWEEN $start AND $end
GROUP BY stratum;
