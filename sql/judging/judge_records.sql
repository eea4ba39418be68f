-- What judges see: masked eval records only (their tool calls included, name-masked with the record by the
-- name tier), with the reference answer a person wrote for the trace, if any.
SELECT d.trace_id, d.request, d.response, d.status, d.tool_path, d.retrieved_context, d.latency_ms,
       d.tool_calls, e.expected_response
FROM eval_dataset AS d
LEFT JOIN judge_expectations AS e ON e.trace_id = d.trace_id
WHERE d.trace_date = $day
ORDER BY d.trace_id;
