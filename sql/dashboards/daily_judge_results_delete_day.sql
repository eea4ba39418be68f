-- Empty $day's rows of daily_judge_results before they are rebuilt (a re-run replaces the day).
DELETE FROM daily_judge_results WHERE trace_date = $day;
