-- The warehouse's tables. Names and the columns of design.md section 3 are a public interface.
-- landing_files is bookkeeping, not part of the contract: which files were read, with counts, and
-- the Parquet file (beside the warehouse) holding each one's parsed span rows.

CREATE TABLE IF NOT EXISTS landing_files (
    source_file VARCHAR PRIMARY KEY,
    size_bytes BIGINT,
    mtime_ns BIGINT,
    format VARCHAR,
    span_count BIGINT,
    quarantine_count BIGINT,
    days DATE[],
    ingested_at TIMESTAMP,
    parquet VARCHAR  -- the file's parsed spans (NULL when none), in <warehouse>.landed/
);

CREATE TABLE IF NOT EXISTS quarantine (
    source_file VARCHAR, position BIGINT, reason VARCHAR, excerpt VARCHAR, seen_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS spans (
    trace_id VARCHAR, span_id VARCHAR, parent_span_id VARCHAR, trace_date DATE, name VARCHAR,
    span_type VARCHAR, start_time TIMESTAMP, end_time TIMESTAMP, status VARCHAR,
    attributes JSON, events JSON, resource JSON,
    kind INTEGER, error_type VARCHAR, error_message VARCHAR, service_name VARCHAR, model VARCHAR,
    provider VARCHAR, input_tokens BIGINT, output_tokens BIGINT, input_text VARCHAR, output_text VARCHAR,
    tool_name VARCHAR, tool_call_id VARCHAR, tool_arguments VARCHAR, tool_result VARCHAR,
    retrieved_documents VARCHAR[], session_id VARCHAR, user_id VARCHAR, conventions VARCHAR[],
    scope_name VARCHAR, source_file VARCHAR
);

CREATE TABLE IF NOT EXISTS raw_traces (
    trace_id VARCHAR, trace_date DATE, start_time TIMESTAMP, end_time TIMESTAMP, latency_ms DOUBLE,
    service_name VARCHAR, root_span_name VARCHAR, status VARCHAR, error_type VARCHAR, error_message VARCHAR,
    request VARCHAR, response VARCHAR, tool_path VARCHAR[],
    tool_calls STRUCT(name VARCHAR, arguments VARCHAR, result VARCHAR, status VARCHAR)[],
    retrieved_context VARCHAR[], models VARCHAR[], input_tokens BIGINT, output_tokens BIGINT,
    session_id VARCHAR, user_id VARCHAR, span_count BIGINT, conventions VARCHAR[],
    root_span_id VARCHAR, error_span_count BIGINT, llm_call_count BIGINT, tool_call_count BIGINT
);

CREATE TABLE IF NOT EXISTS masked_traces (
    trace_id VARCHAR, trace_date DATE, start_time TIMESTAMP, end_time TIMESTAMP, latency_ms DOUBLE,
    service_name VARCHAR, root_span_name VARCHAR, status VARCHAR, error_type VARCHAR, error_message VARCHAR,
    request VARCHAR, response VARCHAR, tool_path VARCHAR[],
    tool_calls STRUCT(name VARCHAR, arguments VARCHAR, result VARCHAR, status VARCHAR)[],
    retrieved_context VARCHAR[], models VARCHAR[], input_tokens BIGINT, output_tokens BIGINT,
    session_id VARCHAR, user_id VARCHAR, span_count BIGINT, conventions VARCHAR[],
    pii_found MAP(VARCHAR, BIGINT),
    feedback STRUCT(judge VARCHAR, label VARCHAR)[]
);

CREATE TABLE IF NOT EXISTS eval_dataset (
    trace_id VARCHAR, trace_date DATE, request VARCHAR, response VARCHAR, tool_path VARCHAR[],
    retrieved_context VARCHAR[], status VARCHAR, latency_tier VARCHAR, stratum VARCHAR,
    inclusion_probability DOUBLE, weight DOUBLE, dataset_version VARCHAR,
    latency_ms DOUBLE, duplicate_count BIGINT
);

CREATE TABLE IF NOT EXISTS judge_scores (
    trace_id VARCHAR, trace_date DATE, judge VARCHAR, verdict VARCHAR, rationale VARCHAR,
    unknown_reason VARCHAR, model VARCHAR, prompt_version VARCHAR, input_tokens BIGINT,
    output_tokens BIGINT, cost_usd DOUBLE, latency_ms DOUBLE, cached BOOLEAN, scored_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS daily_metrics (
    trace_date DATE, traces BIGINT, error_rate DOUBLE, latency_p50_ms DOUBLE, latency_p95_ms DOUBLE,
    latency_p99_ms DOUBLE, input_tokens BIGINT, output_tokens BIGINT, quarantined BIGINT,
    dataset_records BIGINT, computed_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS daily_judge_results (
    trace_date DATE, judge VARCHAR, judged BIGINT, passed BIGINT, failed BIGINT, unknown BIGINT,
    weighted_pass_rate DOUBLE, unknown_reasons MAP(VARCHAR, BIGINT), computed_at TIMESTAMP
);

-- The landed files that count for a day's quarantine figures: those with spans of the day, and those
-- that yielded no span at all, dated by their modification time (when they landed).
CREATE OR REPLACE MACRO quarantine_files(d) AS TABLE
SELECT *
FROM landing_files
WHERE list_contains(days, d)
   OR (span_count = 0 AND CAST(make_timestamp(mtime_ns // 1000) AS DATE) = d);
