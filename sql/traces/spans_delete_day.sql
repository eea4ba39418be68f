-- A day is rebuilt whole: its spans go first (in the same transaction as the insert).
DELETE FROM spans
WHERE trace_date = $day;
