-- Columns added after a table was first released, in the order they came: warehouses created before
-- get them here (for a new warehouse, tables.sql already has them and these do nothing). Append only.
ALTER TABLE masked_traces ADD COLUMN IF NOT EXISTS feedback STRUCT(judge VARCHAR, label VARCHAR)[];
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS model VARCHAR;
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS tool_signature VARCHAR;
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS service_name VARCHAR;
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS session_id VARCHAR;
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS user_id VARCHAR;
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS request_key VARCHAR;
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS selected_by VARCHAR;
ALTER TABLE judge_scores ADD COLUMN IF NOT EXISTS parameters VARCHAR;
ALTER TABLE judge_scores ADD COLUMN IF NOT EXISTS input_hash VARCHAR;
ALTER TABLE daily_metrics ADD COLUMN IF NOT EXISTS top_tool_paths JSON;
ALTER TABLE daily_judge_results ADD COLUMN IF NOT EXISTS ci_low DOUBLE;
ALTER TABLE daily_judge_results ADD COLUMN IF NOT EXISTS ci_high DOUBLE;
ALTER TABLE daily_judge_results ADD COLUMN IF NOT EXISTS spend_usd DOUBLE;
ALTER TABLE landing_files ADD COLUMN IF NOT EXISTS parquet VARCHAR;
ALTER TABLE raw_traces ADD COLUMN IF NOT EXISTS model_usage STRUCT(model VARCHAR, input_tokens BIGINT, output_tokens BIGINT)[];
ALTER TABLE masked_traces ADD COLUMN IF NOT EXISTS model_usage STRUCT(model VARCHAR, input_tokens BIGINT, output_tokens BIGINT)[];
ALTER TABLE daily_metrics ADD COLUMN IF NOT EXISTS agent_cost_usd DOUBLE;
ALTER TABLE daily_metrics ADD COLUMN IF NOT EXISTS unpriced_models VARCHAR[];
ALTER TABLE landing_files ADD COLUMN IF NOT EXISTS indexed BOOLEAN;
ALTER TABLE landing_files ADD COLUMN IF NOT EXISTS expired_at TIMESTAMP;
ALTER TABLE eval_dataset_strata ADD COLUMN IF NOT EXISTS cells BIGINT;
ALTER TABLE daily_judge_results ADD COLUMN IF NOT EXISTS n_eff DOUBLE;
ALTER TABLE daily_judge_results ADD COLUMN IF NOT EXISTS std_error DOUBLE;
ALTER TABLE daily_judge_results ADD COLUMN IF NOT EXISTS unpriced_calls BIGINT;
ALTER TABLE daily_judge_strata ADD COLUMN IF NOT EXISTS n_eff DOUBLE;
ALTER TABLE daily_judge_strata ADD COLUMN IF NOT EXISTS std_error DOUBLE;
ALTER TABLE raw_traces ADD COLUMN IF NOT EXISTS response_models VARCHAR[];
ALTER TABLE masked_traces ADD COLUMN IF NOT EXISTS response_models VARCHAR[];
-- input_fingerprints (lib/fingerprints.py) is a new table: tables.sql creates it in older warehouses too.
ALTER TABLE eval_dataset_days ADD COLUMN IF NOT EXISTS name_tier VARCHAR;
-- The eval records carry their trace's tool calls and error, name-masked with the rest of the record; rows
-- built before stay NULL until their day is rebuilt (the code version in the fingerprint rebuilds it).
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS tool_calls STRUCT(name VARCHAR, arguments VARCHAR, result VARCHAR, status VARCHAR)[];
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS error_type VARCHAR;
ALTER TABLE eval_dataset ADD COLUMN IF NOT EXISTS error_message VARCHAR;
ALTER TABLE dev_eval_dataset ADD COLUMN IF NOT EXISTS tool_calls STRUCT(name VARCHAR, arguments VARCHAR, result VARCHAR, status VARCHAR)[];
ALTER TABLE dev_eval_dataset ADD COLUMN IF NOT EXISTS error_type VARCHAR;
ALTER TABLE dev_eval_dataset ADD COLUMN IF NOT EXISTS error_message VARCHAR;
