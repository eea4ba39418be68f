-- Per judge: today's rate of calls that gave no answer (the judge could have answered but did not: the
-- reasons in $no_answer_reasons, bound from eval_pipeline.lib.judging.verdict.NO_ANSWER) among the records
-- it was asked about; records it could not apply to (no model, no context, no reference, ...) are left out.
-- And spend per judged record today vs the trailing 7 days, and whether every call it made today failed
-- (the reasons in $call_failure_reasons: the provider never answered, a setup problem).
WITH s AS (
    SELECT *, unknown_reason IN (SELECT unnest($no_answer_reasons::VARCHAR[])) AS failed_to_answer,
           unknown_reason IN (SELECT unnest($call_failure_reasons::VARCHAR[])) AS call_failed
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
           AS cost_per_record_baseline,
       count(*) FILTER (WHERE trace_date = $day AND call_failed) > 0
           AND count(*) FILTER (WHERE trace_date = $day AND call_failed)
               = count(*) FILTER (WHERE trace_date = $day AND (verdict <> 'unknown' OR failed_to_answer))
           AS every_call_failed
FROM s
GROUP BY judge
ORDER BY judge;
