-- The texts of $day's eval records that the name tier masks (already masked by the detectors in masked_traces).
SELECT trace_id, request, response, retrieved_context FROM eval_dataset WHERE trace_date = $day ORDER BY trace_id;
