INSERT INTO spans BY NAME
SELECT trace_id, span_id, parent_span_id, CAST($day AS DATE) AS trace_date, name, span_type,
       make_timestamp(start_ns // 1000) AS start_time, make_timestamp(end_ns // 1000) AS end_time,
       status, attributes, events, resource, kind, error_type, error_message, service_name, model,
       provider, input_tokens, output_tokens, input_text, output_text, tool_name, tool_call_id,
       tool_arguments, tool_result, retrieved_documents, session_id, user_id, conventions, scope_name,
       source_file
FROM read_parquet($files)
JOIN day_spans USING (source_file, source_index);
