-- Empty $day's rows of daily_metrics before they are rebuilt (a re-run replaces the day).
DELETE FROM daily_metrics WHERE trace_date = $day;
