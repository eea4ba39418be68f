-- Empty $day's selection bookkeeping before the selection writes it again.
DELETE FROM eval_dataset_days WHERE trace_date = $day;
