-- Per judge: today's unknown rate (only where calls were possible: a model was configured) and
-- spend per judged record today vs the trailing 7 days.
SELECT judge,
       count(*) FILTER (WHERE trace_date = $day AND verdict = 'unknown'
                        AND coalesce(unknown_reason, '') <> 'no_model_configured')
           / nullif(count(*) FILTER (WHERE trace_date = $day AND model IS NOT NULL), 0) AS unknown_rate,
       sum(cost_usd) FILTER (WHERE trace_date = $day) / nullif(count(*) FILTER (WHERE trace_date = $day), 0)
           AS cost_per_record,
       sum(cost_usd) FILTER (WHERE trace_date < $day) / nullif(count(*) FILTER (WHERE trace_date < $day), 0)
           AS cost_per_record_baseline
FROM judge_scores
WHERE trace_date BETWEEN CAST($day AS DATE) - 7 AND $day
GROUP BY judge
ORDER BY judge;
