-- What judges see: masked eval records only, with the masked tool calls of the same trace and the
-- reference answer a person wrote for it, if any.
SELECT d.trace_id, d.request, d.response, d.status, d.tool_path, d.retrieved_context, d.latency_ms,
       m.tool_calls, e.expected_response
FROM eval_dataset AS d
LEFT JOIN masked_traces AS m ON m.trace_id = d.trace_id AND m.trace_date = d.trace_date
LEFT JOIN judge_expectations AS e ON e.trace_id = d.trace_id
WHERE d.trace_date = $day
ORDER BY d.trace_id;
