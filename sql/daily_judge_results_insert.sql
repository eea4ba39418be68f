-- Per judge for $day: verdict counts and the weighted pass rate (an estimate for the day's traffic,
-- using the dataset's inclusion weights; unknown verdicts are excluded from the rate, never counted as pass).
INSERT INTO daily_judge_results BY NAME
WITH s AS (
    SELECT j.judge, j.verdict, j.unknown_reason, d.weight
    FROM judge_scores AS j
    JOIN eval_dataset AS d USING (trace_id, trace_date)
    WHERE j.trace_date = $day
),
reasons AS (
    SELECT judge, map(list(unknown_reason), list(n)) AS unknown_reasons
    FROM (SELECT judge, unknown_reason, count(*) AS n FROM s WHERE verdict = 'unknown' GROUP BY ALL)
    GROUP BY judge
)
SELECT CAST($day AS DATE) AS trace_date, s.judge,
       count(*) AS judged,
       count(*) FILTER (WHERE verdict = 'pass') AS passed,
       count(*) FILTER (WHERE verdict = 'fail') AS failed,
       count(*) FILTER (WHERE verdict = 'unknown') AS unknown,
       sum(weight) FILTER (WHERE verdict = 'pass') / nullif(sum(weight) FILTER (WHERE verdict <> 'unknown'), 0)
           AS weighted_pass_rate,
       coalesce(any_value(r.unknown_reasons), MAP()) AS unknown_reasons,
       now()::TIMESTAMP AS computed_at
FROM s
LEFT JOIN reasons AS r USING (judge)
GROUP BY s.judge;
