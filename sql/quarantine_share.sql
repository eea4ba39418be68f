-- Quarantined records vs spans read, over the files carrying spans of $day and the files that
-- yielded no span at all (undatable, so they count against every day until fixed or removed).
SELECT sum(quarantine_count) AS quarantined, sum(span_count) AS spans
FROM landing_files
WHERE list_contains(days, CAST($day AS DATE)) OR span_count = 0;
