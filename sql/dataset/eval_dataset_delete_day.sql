-- Empty $day's eval records before the selection writes them again (a re-run replaces the day).
DELETE FROM eval_dataset WHERE trace_date = $day;
