-- How many of $day's eval records come from error traces.
SELECT count(*) FROM eval_dataset WHERE trace_date = $day AND status = 'error';
