-- The columns the dev_eval_dataset expectations look at (no request text): the window ending $day.
SELECT trace_id, request_key, weight
FROM dev_eval_dataset
WHERE window_end = CAST($day AS DATE);
