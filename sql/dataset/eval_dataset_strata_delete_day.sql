-- Empty $day's per-stratum bookkeeping before the selection writes it again.
DELETE FROM eval_dataset_strata WHERE trace_date = $day;
