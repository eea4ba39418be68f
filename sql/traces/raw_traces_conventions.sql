-- The semantic conventions seen in a day's traces, with how many traces carry each.
SELECT c AS convention, count(*) AS traces
FROM (SELECT unnest(conventions) AS c FROM raw_traces WHERE trace_date = $day)
GROUP BY c
ORDER BY c;
