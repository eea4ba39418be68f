-- The columns the eval_dataset expectations look at (no request text). Parameters: $day.
SELECT trace_id, request_key, status, stratum, inclusion_probability, weight, duplicate_count
FROM eval_dataset
WHERE trace_date = CAST($day AS DATE);
