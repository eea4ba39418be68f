-- Per stratum of the day's eligible population: its size, the cells merged into it, its allocation and
-- what was drawn. Parameters: $day.
INSERT INTO eval_dataset_strata BY NAME
WITH cells AS (
    SELECT stratum, any_value(stratum_tool_signature) AS tool_signature, any_value(status) AS status,
           any_value(stratum_latency_tier) AS latency_tier, any_value(stratum_model) AS model, count(*) AS cells
    FROM eval_cells
    GROUP BY stratum
)
SELECT CAST($day AS DATE) AS trace_date, p.stratum, c.tool_signature, c.status, c.latency_tier, c.model, c.cells,
       count(*) AS traces, approx_count_distinct(p.request_key) AS unique_requests,
       any_value(p.base_probability) AS base_probability, any_value(p.k) AS minimum,
       sum(p.inclusion_probability) AS expected_records,
       count(*) FILTER (WHERE p.selected_by IS NOT NULL) AS records,
       coalesce(sum(1.0 / p.inclusion_probability) FILTER (WHERE p.selected_by IS NOT NULL), 0) AS weight
FROM eval_population AS p
JOIN cells AS c USING (stratum)
GROUP BY p.stratum, c.tool_signature, c.status, c.latency_tier, c.model, c.cells;
