-- Weighted pass rate per judge for the 30 days ending $day. A day is a regression when its whole
-- 95 % interval lies below the judge's trailing 7-day mean rate (with at least 3 earlier days).
SELECT trace_date, judge, weighted_pass_rate, ci_low, ci_high, judged, unknown,
       avg(weighted_pass_rate) OVER w AS trailing7,
       coalesce(count(weighted_pass_rate) OVER w >= 3 AND ci_high < avg(weighted_pass_rate) OVER w, false)
           AS regression
FROM daily_judge_results
WHERE trace_date BETWEEN CAST($day AS DATE) - 29 AND $day
WINDOW w AS (PARTITION BY judge ORDER BY trace_date ROWS BETWEEN 7 PRECEDING AND 1 PRECEDING)
ORDER BY judge, trace_date;
