-- A day's eval dataset: a deterministic, stratified (tool path x status), error-biased Poisson
-- sample of the day's masked traces, deduplicated on the normalised request.
-- Parameters: $day, $target_size, $min_per_stratum, $error_oversample, $seed.
INSERT INTO eval_dataset BY NAME
WITH base AS (
    SELECT *,
           coalesce(nullif(array_to_string(tool_path, '>'), ''), '(no tools)') || ' | ' || status AS stratum,
           -- Placeholders compare equal already (same value, same token); case and spacing are folded.
           lower(regexp_replace(trim(request), '\s+', ' ', 'g')) AS norm_request
    FROM masked_traces
    WHERE trace_date = $day AND request IS NOT NULL AND trim(request) <> ''
),
tiers AS (
    SELECT quantile_cont(latency_ms, 0.5) AS p50, quantile_cont(latency_ms, 0.9) AS p90,
           quantile_cont(latency_ms, 0.99) AS p99
    FROM base
),
dedup AS (
    -- One record per normalised request; the representative is chosen by the keyed hash.
    SELECT *, count(*) OVER (PARTITION BY norm_request) AS duplicate_count
    FROM base
    QUALIFY row_number() OVER (PARTITION BY norm_request ORDER BY md5($seed || trace_id)) = 1
),
strata AS (
    SELECT stratum, count(*) AS n,
           count(*) * CASE WHEN any_value(status) = 'error' THEN $error_oversample ELSE 1.0 END AS demand
    FROM dedup
    GROUP BY stratum
),
alloc AS (
    SELECT stratum, n,
           least(1.0, greatest($min_per_stratum, $target_size * demand / sum(demand) OVER ()) / n)
               AS inclusion_probability
    FROM strata
),
scored AS (
    SELECT d.*, a.inclusion_probability,
           CAST(('0x' || substr(md5($seed || d.trace_id), 1, 15)) AS UBIGINT) / 1152921504606846976.0 AS u
    FROM dedup AS d
    JOIN alloc AS a USING (stratum)
)
SELECT trace_id, trace_date, request, response, tool_path, retrieved_context, status,
       CASE WHEN latency_ms <= t.p50 THEN 'p50' WHEN latency_ms <= t.p90 THEN 'p90'
            WHEN latency_ms <= t.p99 THEN 'p99' ELSE 'tail' END AS latency_tier,
       stratum, inclusion_probability,
       duplicate_count / inclusion_probability AS weight,
       NULL AS dataset_version, latency_ms, duplicate_count
FROM scored, tiers AS t
WHERE u < inclusion_probability;
