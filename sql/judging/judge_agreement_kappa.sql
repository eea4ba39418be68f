-- judge_kappa_above_threshold: each judge's compared records and Cohen's kappa on the day.
SELECT judge, compared, cohen_kappa
FROM judge_agreement
WHERE trace_date = CAST($day AS DATE)
ORDER BY judge;
