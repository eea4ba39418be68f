-- Per judge for $day: verdict counts, unknown reasons, spend and the weighted pass rate with its
-- 95 % interval (the judge_estimates macro, sql/schema/40_dashboards.sql).
INSERT INTO daily_judge_results BY NAME
WITH est AS (
    SELECT * FROM judge_estimates($day, false)
),
reasons AS (
    SELECT judge, map(list(unknown_reason), list(n)) AS unknown_reasons
    FROM (SELECT judge, coalesce(unknown_reason, 'unspecified') AS unknown_reason, count(*) AS n
          FROM judge_scores WHERE trace_date = $day AND verdict = 'unknown' GROUP BY ALL)
    GROUP BY judge
)
SELECT CAST($day AS DATE) AS trace_date, e.judge, e.judged, e.passed, e.failed, e.unknown,
       e.weighted_pass_rate, e.ci_low, e.ci_high, e.spend_usd,
       coalesce(r.unknown_reasons, MAP()) AS unknown_reasons,
       now()::TIMESTAMP AS computed_at
FROM est AS e
LEFT JOIN reasons AS r USING (judge);
