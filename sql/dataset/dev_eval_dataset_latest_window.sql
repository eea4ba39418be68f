-- The newest window end built in dev_eval_dataset (NULL: none).
SELECT max(window_end) FROM dev_eval_dataset;
