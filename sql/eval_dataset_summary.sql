SELECT stratum, count(*) AS records, count(*) FILTER (WHERE status = 'error') AS errors,
       sum(weight) AS weight, any_value(dataset_version) AS dataset_version
FROM eval_dataset
WHERE trace_date = $day
GROUP BY stratum
ORDER BY records DESC, stratum;
