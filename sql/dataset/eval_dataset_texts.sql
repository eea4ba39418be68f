-- The texts of $day's eval records that the name tier masks (already masked by the detectors in masked_traces):
-- request, response, retrieved documents, tool calls' arguments and results, the error message.
SELECT trace_id, request, response, retrieved_context, tool_calls, error_message
FROM eval_dataset WHERE trace_date = $day ORDER BY trace_id;
