-- The day's eval records: the drawn members of eval_population (eval_dataset_population.sql), with
-- their masked text. weight = the traces the record stands for / its inclusion probability.
-- Parameters: $day.
INSERT INTO eval_dataset BY NAME
SELECT p.trace_id, m.trace_date, m.request, m.response, m.tool_path, m.retrieved_context, p.status,
       p.latency_tier, p.stratum, p.inclusion_probability, p.duplicate_count / p.inclusion_probability AS weight,
       NULL AS dataset_version, p.latency_ms, p.duplicate_count, p.model, p.tool_signature, p.service_name,
       p.session_id, p.user_id, p.request_key, p.selected_by
FROM eval_population AS p
JOIN masked_traces AS m ON m.trace_id = p.trace_id AND m.trace_date = $day
WHERE p.selected_by IS NOT NULL;
