-- The production records a release gate compares on: the dev-eval dataset of the window ending $end
-- (masked text only, tool calls included, name-masked with the record), each with the reference answer a
-- person wrote for it, as the judges see a record (sql/judging/judge_records.sql), plus its design weight.
SELECT d.trace_id, d.trace_date, d.request, d.response, d.status, d.tool_path, d.retrieved_context,
       d.latency_ms, d.tool_calls, e.expected_response, d.stratum, d.weight, d.inclusion_probability,
       d.dataset_version, d.window_start, d.window_end
FROM dev_eval_dataset AS d
LEFT JOIN judge_expectations AS e ON e.trace_id = d.trace_id
WHERE d.window_end = $end
ORDER BY d.trace_id;
