-- The stored bookkeeping of $day's selection (no row: the day was never selected).
SELECT * EXCLUDE (trace_date, target_size, name_tier) FROM eval_dataset_days WHERE trace_date = $day;
