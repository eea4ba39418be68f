-- The name tier recorded for $day's eval records (no row: the day was never selected).
SELECT name_tier FROM eval_dataset_days WHERE trace_date = $day;
