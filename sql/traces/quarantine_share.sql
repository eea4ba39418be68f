-- Quarantined records vs spans read for $day: over the files carrying spans of the day, plus the
-- files that yielded no span at all, dated by their modification time (when they landed).
SELECT coalesce(sum(quarantine_count), 0) AS quarantined, coalesce(sum(span_count), 0) AS spans
FROM quarantine_files(CAST($day AS DATE));
