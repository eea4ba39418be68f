-- The day's rows in every table a fingerprinted step writes: a step skips only when its tables still hold
-- what it wrote (a day deleted or restored by hand is rebuilt).
SELECT (SELECT count(*) FROM raw_traces WHERE trace_date = $day) AS raw_traces,
       (SELECT count(*) FROM spans WHERE trace_date = $day) AS spans,
       (SELECT count(*) FROM masked_traces WHERE trace_date = $day) AS masked_traces,
       (SELECT count(*) FROM eval_dataset WHERE trace_date = $day) AS eval_dataset,
       (SELECT count(*) FROM eval_dataset_days WHERE trace_date = $day) AS eval_dataset_days,
       (SELECT count(*) FROM judge_scores WHERE trace_date = $day) AS judge_scores;
