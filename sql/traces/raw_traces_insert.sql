-- One row per trace (design.md section 3, trace-formats.md section 6.3).
INSERT INTO raw_traces BY NAME
WITH day AS (
    SELECT * EXCLUDE (attributes, events, resource)
    FROM read_parquet($files)
    JOIN day_spans USING (source_file, source_index)
),
-- Model names: an LLM span names the model it asked for (request attributes) and often a dated model that
-- answered (gpt-4.1-mini -> gpt-4.1-mini-2025-04-14). A trace's `models` prefer the requested name, so one
-- model never shows under two names. A span that reports only the answering model (some conventions record
-- no request) takes the one name requested elsewhere that day that it starts with; failing that, an
-- ISO-dated name loses its date (gpt-4.1-mini-2025-04-14 -> gpt-4.1-mini); a name someone requested as such
-- stays as it is. `response_models` keeps the names the spans reported.
requested AS (
    SELECT d.trace_id, d.model AS response_model,
           coalesce(json_extract_string(p.attributes, '$."gen_ai.request.model"'),
                    json_extract_string(p.attributes, '$."llm.request.model_name"'),
                    json_extract_string(p.attributes, '$."ai.model.id"')) AS request_model
    FROM day AS d
    JOIN (SELECT source_file, source_index, attributes FROM read_parquet($files) WHERE span_type = 'llm') AS p
      USING (source_file, source_index)
    WHERE d.span_type = 'llm' AND d.model IS NOT NULL
),
requested_names AS (
    SELECT DISTINCT request_model FROM requested WHERE request_model IS NOT NULL
),
reported_names AS (
    SELECT r.response_model,
           CASE WHEN count(DISTINCT n.request_model) = 1 THEN any_value(n.request_model)
                ELSE regexp_replace(r.response_model, '-\d{4}-\d{2}-\d{2}$', '') END AS model
    FROM (SELECT DISTINCT response_model FROM requested) AS r
    LEFT JOIN requested_names AS n ON starts_with(r.response_model, n.request_model || '-')
    WHERE r.response_model NOT IN (SELECT request_model FROM requested_names)
    GROUP BY r.response_model
),
trace_models AS (
    SELECT r.trace_id, list_sort(list(DISTINCT coalesce(r.request_model, n.model, r.response_model))) AS models,
           list_sort(list(DISTINCT r.response_model)) AS response_models
    FROM requested AS r
    LEFT JOIN reported_names AS n USING (response_model)
    GROUP BY r.trace_id
),
usage AS (
    SELECT trace_id, list({'model': model, 'input_tokens': input_tokens, 'output_tokens': output_tokens}
                          ORDER BY model) AS model_usage
    FROM (SELECT trace_id, model, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens
          FROM day WHERE span_type = 'llm' AND model IS NOT NULL GROUP BY ALL)
    GROUP BY trace_id
),
traces AS (
SELECT
    trace_id,
    CAST($day AS DATE) AS trace_date,
    make_timestamp(min(start_ns) // 1000) AS start_time,
    make_timestamp(max(end_ns) // 1000) AS end_time,
    (max(end_ns) - min(start_ns)) / 1e6 AS latency_ms,
    coalesce(any_value(service_name) FILTER (WHERE span_id = root_span_id),
             arg_min(service_name, start_ns) FILTER (WHERE service_name IS NOT NULL)) AS service_name,
    any_value(name) FILTER (WHERE span_id = root_span_id) AS root_span_name,
    CASE WHEN bool_or(status = 'error') FILTER (WHERE span_id = root_span_id) THEN 'error' ELSE 'ok' END AS status,
    coalesce(any_value(error_type) FILTER (WHERE span_id = root_span_id AND status = 'error'),
             arg_min(error_type, start_ns) FILTER (WHERE status = 'error' AND error_type IS NOT NULL)) AS error_type,
    coalesce(any_value(error_message) FILTER (WHERE span_id = root_span_id AND status = 'error'),
             arg_min(error_message, start_ns) FILTER (WHERE status = 'error' AND error_message IS NOT NULL))
        AS error_message,
    -- The user's input: the root's input, else the first LLM call's last user message.
    coalesce(any_value(input_text) FILTER (WHERE span_id = root_span_id),
             arg_min(input_text, start_ns) FILTER (WHERE span_type = 'llm' AND input_text IS NOT NULL)) AS request,
    -- The agent's final output: the root's output, else the last LLM call's output.
    coalesce(any_value(output_text) FILTER (WHERE span_id = root_span_id),
             arg_max(output_text, end_ns) FILTER (WHERE span_type = 'llm' AND output_text IS NOT NULL)) AS response,
    coalesce(list(tool_name ORDER BY start_ns, span_id)
                 FILTER (WHERE span_type = 'tool' AND tool_name IS NOT NULL), []) AS tool_path,
    coalesce(list({'name': tool_name, 'arguments': tool_arguments, 'result': tool_result, 'status': status}
                  ORDER BY start_ns, span_id) FILTER (WHERE span_type = 'tool'), []) AS tool_calls,
    coalesce(flatten(list(retrieved_documents ORDER BY start_ns, span_id)
                     FILTER (WHERE retrieved_documents IS NOT NULL)), []) AS retrieved_context,
    -- Agent spans often repeat their children's usage: tokens are summed over LLM spans only.
    sum(input_tokens) FILTER (WHERE span_type = 'llm') AS input_tokens,
    sum(output_tokens) FILTER (WHERE span_type = 'llm') AS output_tokens,
    coalesce(any_value(session_id) FILTER (WHERE span_id = root_span_id),
             arg_min(session_id, start_ns) FILTER (WHERE session_id IS NOT NULL)) AS session_id,
    coalesce(any_value(user_id) FILTER (WHERE span_id = root_span_id),
             arg_min(user_id, start_ns) FILTER (WHERE user_id IS NOT NULL)) AS user_id,
    count(*) AS span_count,
    list_sort(list_distinct(flatten(list(conventions)))) AS conventions,
    any_value(root_span_id) AS root_span_id,
    count(*) FILTER (WHERE status = 'error') AS error_span_count,
    count(*) FILTER (WHERE span_type = 'llm') AS llm_call_count,
    count(*) FILTER (WHERE span_type = 'tool') AS tool_call_count
FROM day
GROUP BY trace_id
)
SELECT traces.*, coalesce(usage.model_usage, []) AS model_usage, coalesce(m.models, []) AS models,
       coalesce(m.response_models, []) AS response_models
FROM traces
LEFT JOIN usage USING (trace_id)
LEFT JOIN trace_models AS m USING (trace_id);
