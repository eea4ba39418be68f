-- Per day with recorded check outcomes: how many checks passed, failed (error), warned or have no result,
-- for the report index.
SELECT trace_date,
       count(*) AS checks,
       count(*) FILTER (WHERE passed) AS passed,
       count(*) FILTER (WHERE NOT passed AND severity = 'ERROR') AS failed,
       count(*) FILTER (WHERE NOT passed AND severity <> 'ERROR') AS warnings,
       count(*) FILTER (WHERE passed IS NULL) AS no_result
FROM check_results
GROUP BY trace_date
ORDER BY trace_date DESC;
