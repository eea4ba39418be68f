-- Traces per tool-path signature on $day and over the trailing 7 days (masked traces).
SELECT trace_date = CAST($day AS DATE) AS is_today,
       coalesce(nullif(array_to_string(tool_path, ' > '), ''), '(no tools)') AS path,
       count(*) AS traces
FROM masked_traces
WHERE trace_date BETWEEN CAST($day AS DATE) - 7 AND $day
GROUP BY ALL;
