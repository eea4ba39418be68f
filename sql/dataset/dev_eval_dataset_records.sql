-- The dev-eval records of the window ending $end, in a stable order for the export.
SELECT * FROM dev_eval_dataset WHERE window_end = $end ORDER BY trace_id;
