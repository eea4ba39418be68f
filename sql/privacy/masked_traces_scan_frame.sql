-- Every masked text and id of a day's masked_traces, which the blocking no_pii_left check scans again.
SELECT trace_id, request, response, error_message, error_type, root_span_name, tool_calls, retrieved_context,
       feedback, user_id, session_id
FROM masked_traces
WHERE trace_date = CAST($day AS DATE);
