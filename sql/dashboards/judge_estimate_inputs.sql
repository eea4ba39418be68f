-- $day's judge verdicts with their records' design (stratum, weight, inclusion probability) and the
-- call's cost, for the weighted pass rates of eval_pipeline.lib.estimates.
SELECT j.judge, d.stratum, j.verdict, d.weight, d.inclusion_probability, j.cost_usd, j.input_tokens
FROM judge_scores AS j
JOIN eval_dataset AS d USING (trace_id, trace_date)
WHERE j.trace_date = $day;
