-- The day's traces as the masking step reads them, with what the row policy needs: whether any span
-- (or its resource) opts the trace out, and the trace's tenant; and the feedback labels the spans carry
-- (gen_ai.evaluation.result events, feedback.<judge> attributes; short labels only). This is the only
-- query after ingestion that reads raw_traces and spans. $opt_out_paths and $tenant_paths are JSON
-- paths ('$."eval.opt_out"').
WITH day_spans AS (
    SELECT trace_id, attributes, events, resource
    FROM spans
    WHERE trace_date = $day
),
evaluation_events AS (
    SELECT trace_id, unnest(CAST(events AS JSON[])) AS e
    FROM day_spans
    WHERE contains(CAST(events AS VARCHAR), 'gen_ai.evaluation.result')
),
feedback_attributes AS (
    SELECT trace_id, k, attributes ->> k AS label
    FROM (SELECT trace_id, attributes, unnest(json_keys(attributes)) AS k
          FROM day_spans WHERE contains(CAST(attributes AS VARCHAR), '"feedback.'))
    WHERE starts_with(k, 'feedback.')
),
labels AS (
    SELECT trace_id, e -> 'attributes' ->> 'gen_ai.evaluation.name' AS judge,
           e -> 'attributes' ->> 'gen_ai.evaluation.score.label' AS label
    FROM evaluation_events
    WHERE e ->> 'name' = 'gen_ai.evaluation.result'
    UNION ALL
    SELECT trace_id, substr(k, length('feedback.') + 1), label
    FROM feedback_attributes
),
feedback AS (
    SELECT trace_id, list({'judge': judge, 'label': label} ORDER BY judge, label) AS feedback
    FROM labels
    WHERE judge IS NOT NULL AND label IS NOT NULL AND length(label) <= 32
    GROUP BY trace_id
),
policy AS (
    SELECT trace_id,
           coalesce(bool_or(list_bool_or(list_transform(
               json_extract_string(attributes, $opt_out_paths) || json_extract_string(resource, $opt_out_paths),
               lambda v: lower(coalesce(v, '')) IN ('true', '1', 'yes')))), false) AS opted_out,
           any_value(list_filter(
               json_extract_string(attributes, $tenant_paths) || json_extract_string(resource, $tenant_paths),
               lambda v: v IS NOT NULL)[1]) AS tenant
    FROM day_spans
    GROUP BY trace_id
)
SELECT r.trace_id, r.trace_date, r.start_time, r.end_time, r.latency_ms, r.service_name, r.root_span_name,
       r.status, r.error_type, r.error_message, r.request, r.response, r.tool_path, r.tool_calls,
       r.retrieved_context, r.models, r.response_models, r.input_tokens, r.output_tokens, r.session_id, r.user_id, r.span_count,
       r.conventions, coalesce(r.model_usage, []) AS model_usage,
       coalesce(f.feedback, []) AS feedback,
       coalesce(p.opted_out, false) AS opted_out, p.tenant
FROM raw_traces AS r
LEFT JOIN policy AS p USING (trace_id)
LEFT JOIN feedback AS f USING (trace_id)
WHERE r.trace_date = $day
ORDER BY r.trace_id;
