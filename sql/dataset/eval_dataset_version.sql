-- The day's dataset version: a content hash of what was selected (ids, weights, text). Parameters: $day.
UPDATE eval_dataset
SET dataset_version = (
    SELECT substr(md5(string_agg(trace_id || ':' || weight || ':' || coalesce(request, '') || ':'
                                 || coalesce(response, ''), ',' ORDER BY trace_id)), 1, 16)
    FROM eval_dataset WHERE trace_date = $day
)
WHERE trace_date = $day;
