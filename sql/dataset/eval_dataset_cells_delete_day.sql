-- Empty $day's cell bookkeeping before the selection writes it again.
DELETE FROM eval_dataset_cells WHERE trace_date = $day;
