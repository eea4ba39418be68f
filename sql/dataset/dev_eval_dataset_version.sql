-- The dev-eval dataset's version: a content hash of its records. Parameters: $end.
UPDATE dev_eval_dataset
SET dataset_version = (
    SELECT substr(md5(string_agg(trace_id || ':' || weight || ':' || coalesce(request, '') || ':'
                                 || coalesce(response, ''), ',' ORDER BY trace_id)), 1, 16)
    FROM dev_eval_dataset WHERE window_end = $end
)
WHERE window_end = $end;
