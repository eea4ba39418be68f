-- $day's eval records with names, places and organisations masked (the registered frame named_rows).
UPDATE eval_dataset AS d
SET request = n.request, response = n.response, retrieved_context = n.retrieved_context,
    tool_calls = n.tool_calls, error_message = n.error_message
FROM named_rows AS n
WHERE d.trace_date = $day AND d.trace_id = n.trace_id;
