-- Whether retention dropped $day's spans (its traces are then kept as they are, never rebuilt).
SELECT count(*) > 0
FROM expired_days
WHERE trace_date = $day;
