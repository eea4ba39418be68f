-- $day's daily_metrics row.
SELECT * FROM daily_metrics WHERE trace_date = $day;
