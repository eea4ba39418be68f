-- Per judge for $day: the figures eval_pipeline.lib.estimates computed (registered as judge_figures:
-- verdict counts, spend, the weighted pass rate with its 95 % interval) and the unknown reasons.
INSERT INTO daily_judge_results BY NAME
WITH reasons AS (
    SELECT judge, map(list(unknown_reason), list(n)) AS unknown_reasons
    FROM (SELECT judge, coalesce(unknown_reason, 'unspecified') AS unknown_reason, count(*) AS n
          FROM judge_scores WHERE trace_date = $day AND verdict = 'unknown' GROUP BY ALL)
    GROUP BY judge
)
SELECT CAST($day AS DATE) AS trace_date, f.judge, f.judged, f.passed, f.failed, f.unknown,
       f.weighted_pass_rate, f.ci_low, f.ci_high, f.n_eff, f.std_error, f.spend_usd, f.unpriced_calls,
       coalesce(r.unknown_reasons, MAP()) AS unknown_reasons,
       now()::TIMESTAMP AS computed_at
FROM judge_figures AS f
LEFT JOIN reasons AS r USING (judge);
