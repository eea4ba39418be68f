-- The day's bookkeeping row takes the dataset version. Parameters: $day.
UPDATE eval_dataset_days
SET dataset_version = (SELECT any_value(dataset_version) FROM eval_dataset WHERE trace_date = $day)
WHERE trace_date = $day;
