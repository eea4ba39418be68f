-- $day's strata with what was drawn from each, the most traffic first. Parameters: $day.
SELECT stratum, traces, records, expected_records, weight, coalesce(cells, 1) AS cells
FROM eval_dataset_strata
WHERE trace_date = $day
ORDER BY traces DESC, stratum;
