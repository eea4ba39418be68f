-- $day's check outcomes: failures first (no result, then errors, then warnings), then the passed ones.
SELECT asset, check_name, passed, severity, description, figures, computed_at
FROM check_results
WHERE trace_date = $day
ORDER BY passed NULLS FIRST, severity, asset, check_name;
