-- Weighted pass rate per judge and day, with its 95 % interval, for the 90 days ending at the newest day
-- with figures (the report index's trends), and the judges that check_results recorded as regressed.
WITH newest AS (SELECT max(trace_date) AS d FROM daily_judge_results),
regressed AS (
    SELECT trace_date, unnest(CAST(json_extract(figures, '$.regressed_judges') AS VARCHAR[])) AS judge
    FROM check_results
    WHERE check_name = 'judge_pass_rate_no_regression' AND passed = false
)
SELECT r.trace_date, r.judge, r.weighted_pass_rate, r.ci_low, r.ci_high, r.judged, r.unknown,
       EXISTS (SELECT 1 FROM regressed AS g WHERE g.trace_date = r.trace_date AND g.judge = r.judge) AS regression
FROM daily_judge_results AS r, newest
WHERE r.trace_date > newest.d - 90
ORDER BY r.judge, r.trace_date;
