-- Weighted pass rates of $day and of the trailing 7 days, per judge (stratum NULL) and per
-- (judge, stratum), with Kish's effective sample sizes; unknown verdicts left out.
WITH s AS (
    SELECT j.judge, d.stratum, j.trace_date, j.trace_date = CAST($day AS DATE) AS is_today, d.weight,
           CASE j.verdict WHEN 'pass' THEN 1.0 ELSE 0.0 END AS y
    FROM judge_scores AS j
    JOIN eval_dataset AS d USING (trace_id, trace_date)
    WHERE j.trace_date BETWEEN CAST($day AS DATE) - 7 AND $day AND j.verdict IN ('pass', 'fail')
)
SELECT judge, CASE WHEN GROUPING(stratum) = 0 THEN stratum END AS stratum, is_today,
       sum(weight * y) / sum(weight) AS rate,
       sum(weight) ^ 2 / sum(weight * weight) AS n_eff,
       count(DISTINCT trace_date) AS days
FROM s
GROUP BY GROUPING SETS ((judge, is_today), (judge, stratum, is_today))
ORDER BY judge, stratum NULLS FIRST, is_today;
