-- Table macros the queries share (DuckDB stores them in the warehouse; re-created with the schema).

-- The landed files that count for a day's quarantine figures: those with spans of the day, and those
-- that yielded no span at all, dated by their modification time (when they landed).
CREATE OR REPLACE MACRO quarantine_files(d) AS TABLE
SELECT *
FROM landing_files
WHERE list_contains(days, d)
   OR (span_count = 0 AND CAST(make_timestamp(mtime_ns // 1000) AS DATE) = d);

-- Per judge (and per stratum) for a day: verdict counts and the weighted pass rate with a 95 %
-- interval. The rate is a ratio estimator over the dataset's inclusion weights (an estimate for the
-- day's whole traffic). The interval is Wilson's score interval at Kish's effective sample size
-- n_eff = (sum w)^2 / sum w^2, which stays sensible for small strata and rates of 0 or 1.
-- Unknown verdicts are left out of the rate, never counted as pass.
-- by_stratum: false gives one row per judge (stratum NULL), true one per (judge, stratum).
CREATE OR REPLACE MACRO judge_estimates(on_day, by_stratum) AS TABLE
WITH s AS (
    SELECT j.judge, CASE WHEN by_stratum THEN d.stratum END AS stratum, j.verdict, j.cost_usd, d.weight,
           CASE j.verdict WHEN 'pass' THEN 1.0 WHEN 'fail' THEN 0.0 END AS y
    FROM judge_scores AS j
    JOIN eval_dataset AS d USING (trace_id, trace_date)
    WHERE j.trace_date = on_day
),
g AS (
    SELECT judge, stratum,
           count(*) AS judged,
           count(*) FILTER (WHERE verdict = 'pass') AS passed,
           count(*) FILTER (WHERE verdict = 'fail') AS failed,
           count(*) FILTER (WHERE verdict = 'unknown') AS unknown,
           sum(weight * y) / nullif(sum(weight) FILTER (WHERE y IS NOT NULL), 0) AS p,
           sum(weight) FILTER (WHERE y IS NOT NULL) ^ 2
               / nullif(sum(weight * weight) FILTER (WHERE y IS NOT NULL), 0) AS n_eff,
           coalesce(sum(cost_usd), 0.0) AS spend_usd
    FROM s
    GROUP BY judge, stratum
)
SELECT judge, stratum, judged, passed, failed, unknown, p AS weighted_pass_rate,
       (p + 1.92 / n_eff - 1.96 * sqrt(p * (1 - p) / n_eff + 0.9604 / (n_eff * n_eff))) / (1 + 3.8416 / n_eff)
           AS ci_low,
       (p + 1.92 / n_eff + 1.96 * sqrt(p * (1 - p) / n_eff + 0.9604 / (n_eff * n_eff))) / (1 + 3.8416 / n_eff)
           AS ci_high,
       spend_usd
FROM g;
