-- Per judge and stratum for $day: the figures eval_pipeline.lib.estimates computed (registered as
-- judge_strata_figures).
INSERT INTO daily_judge_strata BY NAME
SELECT CAST($day AS DATE) AS trace_date, judge, stratum, judged, passed, failed, unknown, weighted_pass_rate,
       ci_low, ci_high, n_eff, std_error, now()::TIMESTAMP AS computed_at
FROM judge_strata_figures;
