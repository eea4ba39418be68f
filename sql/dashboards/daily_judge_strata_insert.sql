INSERT INTO daily_judge_strata BY NAME
SELECT CAST($day AS DATE) AS trace_date, judge, stratum, judged, passed, failed, unknown,
       weighted_pass_rate, ci_low, ci_high, now()::TIMESTAMP AS computed_at
FROM judge_estimates($day, true);
