SELECT trace_id, trace_date, start_time, end_time, latency_ms, service_name, root_span_name, status,
       error_type, error_message, request, response, tool_path, tool_calls, retrieved_context, models,
       input_tokens, output_tokens, session_id, user_id, span_count, conventions
FROM raw_traces
WHERE trace_date = $day
ORDER BY trace_id;
