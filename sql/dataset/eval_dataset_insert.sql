-- The day's eval records: the drawn traces of eval_population (eval_dataset_population.sql), one row per
-- trace, with their masked text (tool calls and error included, so the name tier masks them with the
-- record). weight = 1 / inclusion_probability: the traces the record stands for;
-- duplicate_count: the eligible traces of the day that asked the same request. Parameters: $day.
INSERT INTO eval_dataset BY NAME
WITH drawn AS (
    SELECT * FROM eval_population WHERE selected_by IS NOT NULL
),
duplicates AS (
    SELECT request_key, count(*) AS duplicate_count
    FROM eval_eligible
    WHERE request_key IN (SELECT request_key FROM drawn)
    GROUP BY request_key
)
SELECT p.trace_id, m.trace_date, m.request, m.response, m.tool_path, m.retrieved_context, p.status,
       p.latency_tier, p.stratum, p.inclusion_probability, 1.0 / p.inclusion_probability AS weight,
       NULL AS dataset_version, p.latency_ms, d.duplicate_count, p.model, p.tool_signature, p.service_name,
       p.session_id, p.user_id, p.request_key, p.selected_by, m.tool_calls, m.error_type, m.error_message
FROM drawn AS p
JOIN duplicates AS d USING (request_key)
JOIN masked_traces AS m ON m.trace_id = p.trace_id AND m.trace_date = $day;
