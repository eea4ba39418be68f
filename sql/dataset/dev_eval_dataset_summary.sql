-- The dev-eval dataset of the window ending $end in figures: records, error records, weight, version, days.
SELECT count(*) AS records, count(*) FILTER (WHERE status = 'error') AS error_records,
       coalesce(sum(weight), 0) AS weight_sum, any_value(dataset_version) AS dataset_version,
       count(DISTINCT trace_date) AS days_with_records
FROM dev_eval_dataset
WHERE window_end = $end;
