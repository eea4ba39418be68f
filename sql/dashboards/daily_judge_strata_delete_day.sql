-- Empty $day's rows of daily_judge_strata before they are rebuilt (a re-run replaces the day).
DELETE FROM daily_judge_strata WHERE trace_date = $day;
