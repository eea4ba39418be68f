-- Per stratum of the day's eligible population: its size, its allocation and what was drawn.
-- Parameters: $day.
INSERT INTO eval_dataset_strata BY NAME
SELECT CAST($day AS DATE) AS trace_date, stratum, any_value(tool_signature) AS tool_signature,
       any_value(status) AS status, any_value(latency_tier) AS latency_tier, any_value(model) AS model,
       sum(duplicate_count) AS traces, count(*) AS unique_requests,
       any_value(base_probability) AS base_probability, any_value(k) AS minimum,
       sum(inclusion_probability) AS expected_records,
       count(*) FILTER (WHERE selected_by IS NOT NULL) AS records,
       coalesce(sum(duplicate_count / inclusion_probability) FILTER (WHERE selected_by IS NOT NULL), 0) AS weight
FROM eval_population
GROUP BY stratum;
