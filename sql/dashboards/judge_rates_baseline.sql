-- The known verdicts (pass / fail) of $day and of the trailing 7 days with their records' design, for the
-- weighted pass rates the regression rule compares (eval_pipeline.lib.estimates.rate_rows).
SELECT j.judge, d.stratum, j.trace_date, j.trace_date = CAST($day AS DATE) AS is_today, j.verdict, d.weight,
       d.inclusion_probability
FROM judge_scores AS j
JOIN eval_dataset AS d USING (trace_id, trace_date)
WHERE j.trace_date BETWEEN CAST($day AS DATE) - 7 AND $day AND j.verdict IN ('pass', 'fail');
