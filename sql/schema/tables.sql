-- Every table's final shape, one place. Names and the columns of design.md section 3 are a public
-- interface: add columns freely (here, and as an ALTER in migrations.sql for older warehouses), rename or
-- drop none. Tables not in the contract are marked bookkeeping.

-- ---------------------------------------------------------------- traces

-- Bookkeeping: which landing files were read, with counts, and the Parquet file (beside the warehouse,
-- in <warehouse>.landed/) holding each one's parsed span rows (NULL when none).
CREATE TABLE IF NOT EXISTS landing_files (
    source_file VARCHAR PRIMARY KEY,
    size_bytes BIGINT,
    mtime_ns BIGINT,
    format VARCHAR,
    span_count BIGINT,
    quarantine_count BIGINT,
    days DATE[],
    ingested_at TIMESTAMP,
    parquet VARCHAR,
    -- its spans are in landed_spans (NULL: a warehouse from before landed_spans; the next run adds them)
    indexed BOOLEAN,
    -- when retention (retention.span_days) dropped its Parquet; the file is not read again unless it changes
    expired_at TIMESTAMP
);

-- Bookkeeping: one narrow row per landed copy of a span (which trace, parent and start, and where its full
-- row is in the Parquet cache), so a day's rollup finds every span of its traces whatever file or day they
-- arrived in.
CREATE TABLE IF NOT EXISTS landed_spans (
    source_file VARCHAR, source_index BIGINT, trace_id VARCHAR, span_id VARCHAR, parent_span_id VARCHAR,
    start_ns BIGINT, end_ns BIGINT, span_date DATE
);

-- Bookkeeping: days whose spans retention dropped; their raw_traces (and everything built from them) are
-- kept and no longer rebuilt.
CREATE TABLE IF NOT EXISTS expired_days (
    trace_date DATE PRIMARY KEY, expired_at TIMESTAMP
);

-- Bookkeeping: per step (an asset, or a check's rules) and day, the fingerprint of the inputs it last built
-- or evaluated the day from, the run that did it, the day's row counts of its tables then and what it
-- showed: a re-run whose inputs did not change skips the work (eval_pipeline/lib/fingerprints.py).
CREATE TABLE IF NOT EXISTS input_fingerprints (
    step VARCHAR, trace_date DATE, fingerprint VARCHAR, run_id VARCHAR, built_at TIMESTAMP,
    row_counts JSON,      -- the day's rows per table when it was built; a skip needs them unchanged
    figures VARCHAR,      -- what the step showed (its metadata), re-shown when it skips
    PRIMARY KEY (step, trace_date)
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
    root_span_id VARCHAR, error_span_count BIGINT, llm_call_count BIGINT, tool_call_count BIGINT,
    -- token usage per model of the trace (LLM spans only), for the agent's cost on the dashboards
    model_usage STRUCT(model VARCHAR, input_tokens BIGINT, output_tokens BIGINT)[],
    -- the model names the LLM spans reported (often dated: gpt-4.1-mini-2025-04-14); `models` holds the
    -- requested names (gpt-4.1-mini)
    response_models VARCHAR[]
);

-- ---------------------------------------------------------------- privacy

CREATE TABLE IF NOT EXISTS masked_traces (
    trace_id VARCHAR, trace_date DATE, start_time TIMESTAMP, end_time TIMESTAMP, latency_ms DOUBLE,
    service_name VARCHAR, root_span_name VARCHAR, status VARCHAR, error_type VARCHAR, error_message VARCHAR,
    request VARCHAR, response VARCHAR, tool_path VARCHAR[],
    tool_calls STRUCT(name VARCHAR, arguments VARCHAR, result VARCHAR, status VARCHAR)[],
    retrieved_context VARCHAR[], models VARCHAR[], input_tokens BIGINT, output_tokens BIGINT,
    session_id VARCHAR, user_id VARCHAR, span_count BIGINT, conventions VARCHAR[],
    pii_found MAP(VARCHAR, BIGINT),
    -- the labels the traces carry for judges (gen_ai.evaluation.result events, feedback.<judge>
    -- attributes), masked like every other text, so judge agreement never needs the raw spans
    feedback STRUCT(judge VARCHAR, label VARCHAR)[],
    model_usage STRUCT(model VARCHAR, input_tokens BIGINT, output_tokens BIGINT)[],
    response_models VARCHAR[]
);

-- ---------------------------------------------------------------- dataset

CREATE TABLE IF NOT EXISTS eval_dataset (
    trace_id VARCHAR, trace_date DATE, request VARCHAR, response VARCHAR, tool_path VARCHAR[],
    retrieved_context VARCHAR[], status VARCHAR, latency_tier VARCHAR, stratum VARCHAR,
    inclusion_probability DOUBLE,
    weight DOUBLE,            -- 1 / inclusion_probability: the traces of the day the record stands for
    dataset_version VARCHAR,
    latency_ms DOUBLE,
    duplicate_count BIGINT,   -- traces of the day that asked this request (each drawn on its own)
    model VARCHAR,            -- the trace's primary (first) model
    tool_signature VARCHAR,   -- tool path, repeats collapsed
    service_name VARCHAR,
    session_id VARCHAR,       -- pseudonymised
    user_id VARCHAR,          -- pseudonymised
    request_key VARCHAR,      -- md5 of the normalised request
    selected_by VARCHAR,      -- 'poisson' | 'stratum_minimum'
    -- The trace's tool calls and error, carried on the record so the name tier masks them with its text.
    tool_calls STRUCT(name VARCHAR, arguments VARCHAR, result VARCHAR, status VARCHAR)[],
    error_type VARCHAR, error_message VARCHAR
);

-- Bookkeeping: one row per (day, stratum) of the eligible population: what was there, what was drawn.
CREATE TABLE IF NOT EXISTS eval_dataset_strata (
    trace_date DATE, stratum VARCHAR,
    tool_signature VARCHAR, status VARCHAR, latency_tier VARCHAR, model VARCHAR,  -- '*': merged (lib/strata.py)
    traces BIGINT,                 -- eligible traces
    unique_requests BIGINT,        -- distinct normalised requests among them (HyperLogLog: approximate)
    base_probability DOUBLE,       -- the stratum's Poisson probability before the per-session/user caps
    minimum BIGINT,                -- records guaranteed by min_per_stratum
    expected_records DOUBLE,       -- sum of inclusion probabilities
    records BIGINT,                -- drawn
    weight DOUBLE,                 -- sum of the drawn records' weights (estimates `traces`)
    cells BIGINT                   -- tool signature x status x latency tier x model cells merged into it
);

-- Bookkeeping: one row per (day, cell) of the eligible population: the cell's traffic and the stratum it
-- was merged into. The stratum-mix drift check bins the trailing days' traffic from it.
CREATE TABLE IF NOT EXISTS eval_dataset_cells (
    trace_date DATE, tool_signature VARCHAR, status VARCHAR, latency_tier VARCHAR, model VARCHAR,
    stratum VARCHAR, traces BIGINT
);

-- Bookkeeping: one row per day: the selection's figures, read by the checks and the metadata.
CREATE TABLE IF NOT EXISTS eval_dataset_days (
    trace_date DATE, traces BIGINT, filtered_out BIGINT, traces_without_request BIGINT,
    eligible_traces BIGINT, unique_requests BIGINT, strata BIGINT, records BIGINT,
    expected_records DOUBLE, expected_error_share DOUBLE, weight_sum DOUBLE,
    weight_sum_se DOUBLE,          -- Horvitz-Thompson standard error of weight_sum
    target_size BIGINT, latency_thresholds DOUBLE[], dataset_version VARCHAR,
    name_tier VARCHAR              -- the name tier that masked the day's records: presidio:<model>, off, unavailable: ...
);

-- The dev-eval dataset: the daily datasets of a window of days, deduplicated across days. One
-- version per window end (the partition); `dataset_version` is a content hash.
CREATE TABLE IF NOT EXISTS dev_eval_dataset (
    window_end DATE, window_start DATE, trace_id VARCHAR, trace_date DATE, request VARCHAR,
    response VARCHAR, tool_path VARCHAR[], retrieved_context VARCHAR[], status VARCHAR,
    latency_tier VARCHAR, stratum VARCHAR, model VARCHAR, service_name VARCHAR, latency_ms DOUBLE,
    inclusion_probability DOUBLE, weight DOUBLE, duplicate_count BIGINT, request_key VARCHAR,
    dataset_version VARCHAR,
    tool_calls STRUCT(name VARCHAR, arguments VARCHAR, result VARCHAR, status VARCHAR)[],
    error_type VARCHAR, error_message VARCHAR
);

-- ---------------------------------------------------------------- judging

CREATE TABLE IF NOT EXISTS judge_scores (
    trace_id VARCHAR, trace_date DATE, judge VARCHAR, verdict VARCHAR, rationale VARCHAR,
    unknown_reason VARCHAR, model VARCHAR, prompt_version VARCHAR, input_tokens BIGINT,
    output_tokens BIGINT, cost_usd DOUBLE, latency_ms DOUBLE, cached BOOLEAN, scored_at TIMESTAMP,
    parameters VARCHAR,       -- decoding parameters (JSON)
    input_hash VARCHAR        -- hash of what the judge saw
);

-- Bookkeeping: one row per LLM judgement ever made with a verdict, keyed by
-- sha256(judge, prompt_version, model, parameters, input_hash): a re-run or a backfill reuses it.
CREATE TABLE IF NOT EXISTS judge_cache (
    cache_key VARCHAR PRIMARY KEY, judge VARCHAR, prompt_version VARCHAR, model VARCHAR,
    parameters VARCHAR, input_hash VARCHAR, verdict VARCHAR, rationale VARCHAR,
    input_tokens BIGINT, output_tokens BIGINT, cost_usd DOUBLE, latency_ms DOUBLE, created_at TIMESTAMP
);

-- Human labels written by people (or their labelling tool): label is 'pass' or 'fail' (also accepted:
-- true/false, yes/no, good/bad, thumbs_up/thumbs_down, 1/0, correct/incorrect).
CREATE TABLE IF NOT EXISTS human_labels (
    trace_id VARCHAR, judge VARCHAR, label VARCHAR, labeller VARCHAR, labelled_at TIMESTAMP
);

-- Reference answers for the correctness judge, written by people; masked like the traces if they
-- quote personal data.
CREATE TABLE IF NOT EXISTS judge_expectations (
    trace_id VARCHAR PRIMARY KEY, expected_response VARCHAR
);

-- Per day and judge: how often the judge agrees with the human labels of the day's records.
CREATE TABLE IF NOT EXISTS judge_agreement (
    trace_date DATE, judge VARCHAR, labelled BIGINT, compared BIGINT, judge_unknown BIGINT,
    accuracy DOUBLE, cohen_kappa DOUBLE, confusion JSON, computed_at TIMESTAMP
);

-- ---------------------------------------------------------------- dashboards (derived, rebuilt per day)

CREATE TABLE IF NOT EXISTS daily_metrics (
    trace_date DATE, traces BIGINT, error_rate DOUBLE, latency_p50_ms DOUBLE, latency_p95_ms DOUBLE,
    latency_p99_ms DOUBLE, input_tokens BIGINT, output_tokens BIGINT, quarantined BIGINT,
    dataset_records BIGINT, computed_at TIMESTAMP,
    top_tool_paths JSON,
    agent_cost_usd DOUBLE,
    unpriced_models VARCHAR[]
);

CREATE TABLE IF NOT EXISTS daily_judge_results (
    trace_date DATE, judge VARCHAR, judged BIGINT, passed BIGINT, failed BIGINT, unknown BIGINT,
    weighted_pass_rate DOUBLE, unknown_reasons MAP(VARCHAR, BIGINT), computed_at TIMESTAMP,
    ci_low DOUBLE, ci_high DOUBLE, spend_usd DOUBLE,
    n_eff DOUBLE,             -- the design-based effective sample size of the rate (lib/stats.py)
    std_error DOUBLE,         -- its linearisation standard error
    unpriced_calls BIGINT     -- answered calls without a price: spend_usd leaves them out
);

CREATE TABLE IF NOT EXISTS daily_judge_strata (
    trace_date DATE, judge VARCHAR, stratum VARCHAR, judged BIGINT, passed BIGINT, failed BIGINT,
    unknown BIGINT, weighted_pass_rate DOUBLE, ci_low DOUBLE, ci_high DOUBLE, computed_at TIMESTAMP,
    n_eff DOUBLE, std_error DOUBLE
);

-- One row per (day, asset, check): the latest outcome of every check on the day's chain, so the report and
-- SQL users read what the checks said in one place. The dashboard checks write their rows in the step that
-- evaluates them; the report copies the other checks' latest evaluations from the Dagster instance.
-- passed is NULL when the check has no result (it raised, or had not finished when the report was written).
CREATE TABLE IF NOT EXISTS check_results (
    trace_date DATE, asset VARCHAR, check_name VARCHAR, passed BOOLEAN,
    severity VARCHAR,          -- 'ERROR' | 'WARN'
    description VARCHAR,       -- the check's own sentence, when it wrote one
    figures JSON,              -- what the check measured and its thresholds (its metadata)
    computed_at TIMESTAMP      -- when the check was evaluated
);

-- ---------------------------------------------------------------- gate (release gates of candidates)

-- One row per (gate run, record): what the candidate answered (masked) or why it did not; a failed call
-- is a row with its error, never a missing one.
CREATE TABLE IF NOT EXISTS candidate_responses (
    gate_id VARCHAR, gated_at TIMESTAMP, dataset_version VARCHAR, window_end DATE, candidate VARCHAR,
    record_id VARCHAR,            -- the trace id, or curated:<file>:<id> for a curated record
    section VARCHAR,              -- 'production' | 'curated'
    request VARCHAR, response VARCHAR,
    tool_calls STRUCT(name VARCHAR, arguments VARCHAR, result VARCHAR, status VARCHAR)[],
    status VARCHAR,               -- 'ok' | 'error'
    error_kind VARCHAR,           -- timeout | retries_exhausted | call_failed | bad_response | budget_exhausted | not_called
    error VARCHAR, latency_ms DOUBLE, attempts BIGINT, cost_usd DOUBLE
);

-- One row per (gate run, judge) and section: the candidate-minus-production difference in weighted pass
-- rate with its 95 % interval (section 'production', metric 'pass_rate_difference'), the candidate's pass
-- rate on the curated records ('curated', 'pass_rate'), the pairwise judge's win / tie / loss rates
-- ('pairwise', metric 'win' | 'tie' | 'loss'). verdict: pass | fail | inconclusive | no_evidence for a
-- gating row, info otherwise, error (no estimate) when the gate could not decide; gate_verdict: the run's
-- pass | fail | error.
CREATE TABLE IF NOT EXISTS release_gates (
    gate_id VARCHAR, gated_at TIMESTAMP, dataset_version VARCHAR, window_start DATE, window_end DATE,
    candidate VARCHAR, candidate_kind VARCHAR, candidate_target VARCHAR, judge_model VARCHAR,
    judge VARCHAR, section VARCHAR, metric VARCHAR, gating BOOLEAN,
    estimate DOUBLE, ci_low DOUBLE, ci_high DOUBLE, n BIGINT, n_eff DOUBLE, left_out BIGINT,
    production_rate DOUBLE, candidate_rate DOUBLE, candidate_unknown BIGINT, records_needed BIGINT,
    margin DOUBLE, verdict VARCHAR, gate_verdict VARCHAR, detail VARCHAR, report VARCHAR
);

-- Per (gate run, gating judge, stratum): the paired difference within the stratum.
CREATE TABLE IF NOT EXISTS release_gate_strata (
    gate_id VARCHAR, judge VARCHAR, stratum VARCHAR, estimate DOUBLE, ci_low DOUBLE, ci_high DOUBLE, n BIGINT
);

-- Per (gate run, record, judge): both verdicts side by side (the pairwise judge: the record's outcome).
CREATE TABLE IF NOT EXISTS release_gate_verdicts (
    gate_id VARCHAR, record_id VARCHAR, section VARCHAR, judge VARCHAR, stratum VARCHAR, weight DOUBLE,
    production_verdict VARCHAR, production_reason VARCHAR, candidate_verdict VARCHAR, candidate_reason VARCHAR,
    candidate_rationale VARCHAR
);
