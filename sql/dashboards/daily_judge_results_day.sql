-- $day's figures per judge.
SELECT * FROM daily_judge_results WHERE trace_date = $day ORDER BY judge;
