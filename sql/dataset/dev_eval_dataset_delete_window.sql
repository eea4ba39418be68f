-- Empty the dev-eval dataset of the window ending $end before it is assembled again.
DELETE FROM dev_eval_dataset WHERE window_end = $end;
