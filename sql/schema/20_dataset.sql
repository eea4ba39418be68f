-- The dataset domain's tables beyond the eval_dataset contract (00_core.sql).

-- Extra eval_dataset columns, added in place so warehouses created before them keep working.
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS model VARCHAR;           -- the trace's primary (first) model
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS tool_signature VARCHAR;  -- tool path, repeats collapsed
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS service_name VARCHAR;
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS session_id VARCHAR;      -- pseudonymised
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS user_id VARCHAR;         -- pseudonymised
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS request_key VARCHAR;     -- md5 of the normalised request
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS selected_by VARCHAR;     -- 'poisson' | 'stratum_minimum'

-- One row per (day, stratum) of the eligible population: what was there, what was drawn.
CREATE TABLE IF NOT EXISTS eval_dataset_strata (
    trace_date DATE, stratum VARCHAR, tool_signature VARCHAR, status VARCHAR, latency_tier VARCHAR,
    model VARCHAR,
    traces BIGINT,                 -- eligible traces, duplicates counted in their representative's stratum
    unique_requests BIGINT,        -- after deduplication
    base_probability DOUBLE,       -- the stratum's Poisson probability before the per-session/user caps
    minimum BIGINT,                -- records guaranteed by min_per_stratum
    expected_records DOUBLE,       -- sum of inclusion probabilities
    records BIGINT,                -- drawn
    weight DOUBLE                  -- sum of the drawn records' weights (estimates `traces`)
);

-- One row per day: the selection's bookkeeping, read by the checks and the metadata.
CREATE TABLE IF NOT EXISTS eval_dataset_days (
    trace_date DATE, traces BIGINT, filtered_out BIGINT, traces_without_request BIGINT,
    eligible_traces BIGINT, unique_requests BIGINT, strata BIGINT, records BIGINT,
    expected_records DOUBLE, expected_error_share DOUBLE, weight_sum DOUBLE,
    weight_sum_se DOUBLE,          -- Horvitz-Thompson standard error of weight_sum
    target_size BIGINT, latency_thresholds DOUBLE[], dataset_version VARCHAR
);

-- The dev-eval dataset: the daily datasets of a window of days, deduplicated across days. One
-- version per window end (the partition); `dataset_version` is a content hash.
CREATE TABLE IF NOT EXISTS dev_eval_dataset (
    window_end DATE, window_start DATE, trace_id VARCHAR, trace_date DATE, request VARCHAR,
    response VARCHAR, tool_path VARCHAR[], retrieved_context VARCHAR[], status VARCHAR,
    latency_tier VARCHAR, stratum VARCHAR, model VARCHAR, service_name VARCHAR, latency_ms DOUBLE,
    inclusion_probability DOUBLE, weight DOUBLE, duplicate_count BIGINT, request_key VARCHAR,
    dataset_version VARCHAR
);
