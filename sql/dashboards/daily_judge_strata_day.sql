-- $day's figures per judge and stratum, the most judged strata first.
SELECT * FROM daily_judge_strata WHERE trace_date = $day ORDER BY judge, judged DESC, stratum;
