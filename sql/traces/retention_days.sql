-- The days before $cutoff that still have spans: retention drops their spans and records them as expired.
SELECT DISTINCT trace_date
FROM spans
WHERE trace_date < $cutoff
ORDER BY trace_date;
