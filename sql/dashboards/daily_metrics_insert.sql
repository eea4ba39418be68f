-- Daily traffic health for $day, from masked tables only, in one write: the agent's LLM cost is priced
-- before the insert (eval_pipeline.lib.pricing over model_usage.sql) and bound as $agent_cost_usd, with the
-- models the price map does not know as $unpriced_models.
INSERT INTO daily_metrics BY NAME
WITH t AS (
    SELECT * FROM masked_traces WHERE trace_date = $day
),
paths AS (
    SELECT coalesce(nullif(array_to_string(tool_path, ' > '), ''), '(no tools)') AS path, count(*) AS traces
    FROM t GROUP BY ALL ORDER BY traces DESC, path LIMIT 10
)
SELECT CAST($day AS DATE) AS trace_date,
       count(*) AS traces,
       avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) AS error_rate,
       quantile_cont(latency_ms, 0.5) AS latency_p50_ms,
       quantile_cont(latency_ms, 0.95) AS latency_p95_ms,
       quantile_cont(latency_ms, 0.99) AS latency_p99_ms,
       coalesce(sum(input_tokens), 0) AS input_tokens,
       coalesce(sum(output_tokens), 0) AS output_tokens,
       (SELECT coalesce(sum(quarantine_count), 0) FROM quarantine_files(CAST($day AS DATE))) AS quarantined,
       (SELECT count(*) FROM eval_dataset WHERE trace_date = $day) AS dataset_records,
       (SELECT to_json(coalesce(list({'path': path, 'traces': traces} ORDER BY traces DESC, path), []))
        FROM paths) AS top_tool_paths,
       CAST($agent_cost_usd AS DOUBLE) AS agent_cost_usd,
       CAST($unpriced_models AS VARCHAR[]) AS unpriced_models,
       now()::TIMESTAMP AS computed_at
FROM t;
