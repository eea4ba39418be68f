-- Drop the row of one check on $day before its new outcome is written (a re-run replaces it).
DELETE FROM check_results WHERE trace_date = $day AND asset = $asset AND check_name = $check_name;
