-- Columns added after a table was first created: existing warehouses get them here.
-- landing_files.parquet: where a file's parsed spans are kept (files registered without one are read again).
ALTER TABLE landing_files ADD COLUMN IF NOT EXISTS parquet VARCHAR;
-- Token usage per model of each trace (LLM spans only), for the agent's cost on the dashboards.
ALTER TABLE raw_traces ADD COLUMN IF NOT EXISTS model_usage STRUCT(model VARCHAR, input_tokens BIGINT, output_tokens BIGINT)[];
ALTER TABLE masked_traces ADD COLUMN IF NOT EXISTS model_usage STRUCT(model VARCHAR, input_tokens BIGINT, output_tokens BIGINT)[];
ALTER TABLE daily_metrics ADD COLUMN IF NOT EXISTS agent_cost_usd DOUBLE;
ALTER TABLE daily_metrics ADD COLUMN IF NOT EXISTS unpriced_models VARCHAR[];
