-- What judges see: masked eval records only.
SELECT trace_id, request, response, status, tool_path, retrieved_context, latency_ms
FROM eval_dataset
WHERE trace_date = $day
ORDER BY trace_id;
