-- Per judge: today's rate of calls that gave no answer (the judge could have answered but did not: the
-- reasons in $no_answer_reasons, bound from eval_pipeline.lib.judging.verdict.NO_ANSWER) among the records
-- it was asked about; records it could not apply to (no model, no context, no reference, ...) are left out.
-- And spend per judged record today vs the trailing 7 days.
WITH s AS (
    SELECT *, unknown_reason IN (SELECT unnest($no_answer_reasons::VARCHAR[])) AS failed_to_answer
    FROM judge_scores
    WHERE trace_date BETWEEN CAST($day AS DATE) - 7 AND $day
)
SELECT judge,
       count(*) FILTER (WHERE trace_date = $day AND failed_to_answer)
           / nullif(count(*) FILTER (WHERE trace_date = $day AND (verdict <> 'unknown' OR failed_to_answer)), 0)
           AS unknown_rate,
       sum(cost_usd) FILTER (WHERE trace_date = $day) / nullif(count(*) FILTER (WHERE trace_date = $day), 0)
           AS cost_per_record,
       sum(cost_usd) FILTER (WHERE trace_date < $day) / nullif(count(*) FILTER (WHERE trace_date < $day), 0)
           AS cost_per_record_baseline
FROM s
GROUP BY judge
ORDER BY judge;
