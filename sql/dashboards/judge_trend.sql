-- Weighted pass rate per judge for the 30 days ending $day, with its 95 % interval. Which days are
-- regressions is decided by eval_pipeline.lib.drift.pass_rate_regressions, the rule the check uses too.
SELECT trace_date, judge, weighted_pass_rate, ci_low, ci_high, judged, unknown
FROM daily_judge_results
WHERE trace_date BETWEEN CAST($day AS DATE) - 29 AND $day
ORDER BY judge, trace_date;
