-- Judging: the judgement cache, human labels, reference answers and judge/human agreement.

-- Decoding parameters and the hash of what the judge saw, stored with every score (added here so
-- warehouses created before these columns existed get them too).
ALTER TABLE judge_scores ADD COLUMN IF NOT EXISTS parameters VARCHAR;
ALTER TABLE judge_scores ADD COLUMN IF NOT EXISTS input_hash VARCHAR;

-- One row per LLM judgement ever made with a verdict, keyed by
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
