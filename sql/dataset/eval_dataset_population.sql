-- The day's eligible population, one row per trace, with its inclusion probability and whether the keyed
-- hash draws it. Reads the temp tables eval_eligible (eval_dataset_eligible.sql) and eval_cells (each
-- cell's stratum, merged by eval_pipeline.lib.strata).
--
-- Design (Poisson sampling of traces with a per-stratum minimum):
--   * eligible: the day's traces that pass the filters and carry a request;
--   * one unit per trace: duplicates (the same normalised request) are drawn each on its own, so an
--     estimate never hands one trace's outcome to the others (the dev-eval dataset and the judge cache
--     collapse them; eval_dataset_insert.sql counts them for the drawn records);
--   * strata: tool signature x status x latency tier x primary model, sparse cells merged (eval_cells);
--   * allocation: a stratum's demand is the sum of its traces' demand factors (errors and rare tool paths
--     oversampled, eval_cells); strata whose proportional share of $target_size is below $min_per_stratum get their
--     minimum only; the rest of the target goes to the others in proportion to their demand;
--   * caps: a session's and then a user's expected records are scaled down to the caps;
--   * membership: u(trace_id) < p, or among the stratum's $min_per_stratum smallest u. The union's
--     probability is exact: pi = p + sum_{j<k} (k - j) * P(Bin(n, p) = j) / n (k = minimum, n = stratum size),
--     because the minimum depends on the ranks of u only. weight = 1 / pi.
-- Parameters: $target_size, $min_per_stratum, $latency_thresholds (DOUBLE[]: the day's quantiles or the
-- SLO thresholds), $tier_labels (VARCHAR[], one per tier), $max_per_session, $max_per_user.
CREATE OR REPLACE TEMP TABLE eval_population AS
WITH stratified AS (
    SELECT e.trace_id, e.request_key, e.status, e.latency_ms, e.service_name, e.session_id, e.user_id, e.model,
           e.tool_signature, e.u, c.latency_tier, c.stratum, c.demand_factor
    FROM (SELECT *, latency_tier(latency_ms, CAST($latency_thresholds AS DOUBLE[]), $tier_labels) AS latency_tier
          FROM eval_eligible WHERE request_key IS NOT NULL) AS e
    JOIN eval_cells AS c
      ON c.tool_signature = e.tool_signature AND c.status IS NOT DISTINCT FROM e.status
     AND c.latency_tier = e.latency_tier AND c.model = e.model
),
strata AS (
    SELECT stratum, count(*) AS n, least(count(*), $min_per_stratum) AS k,
           sum(demand_factor) AS demand,
           -- The minimum takes the stratum's smallest hashes: u up to the k-th smallest.
           list_last(min(u, greatest($min_per_stratum, 1))) AS minimum_u
    FROM stratified
    GROUP BY stratum
),
first_pass AS (
    SELECT *, $target_size * demand / sum(demand) OVER () AS share FROM strata
),
alloc AS (
    -- Strata whose share is below their minimum take the minimum only; the rest of the target is shared
    -- among the others in proportion to their demand.
    SELECT stratum, n, k, minimum_u,
           CASE WHEN share < k THEN 0.0
                ELSE least(1.0, greatest($target_size - sum(CASE WHEN share < k THEN k ELSE 0 END) OVER (), 0)
                                * demand / sum(CASE WHEN share >= k THEN demand END) OVER () / n)
           END AS base_probability
    FROM first_pass
),
allocated AS (
    SELECT s.*, a.n, a.k, a.minimum_u, a.base_probability
    FROM stratified AS s
    JOIN alloc AS a USING (stratum)
),
-- The caps scale the Poisson probabilities of a session's (then a user's) records so that their sum,
-- the expected number of records, stays within the cap.
session_factor AS (
    SELECT session_id, least(1.0, $max_per_session / nullif(sum(base_probability), 0)) AS f
    FROM allocated
    WHERE $max_per_session > 0 AND session_id IS NOT NULL
    GROUP BY session_id
),
session_capped AS (
    SELECT a.*, a.base_probability * coalesce(f.f, 1.0) AS p_session
    FROM allocated AS a
    LEFT JOIN session_factor AS f ON f.session_id = a.session_id
),
user_factor AS (
    SELECT user_id, least(1.0, $max_per_user / nullif(sum(p_session), 0)) AS f
    FROM session_capped
    WHERE $max_per_user > 0 AND user_id IS NOT NULL
    GROUP BY user_id
),
capped AS (
    SELECT c.* EXCLUDE (p_session), c.p_session * coalesce(f.f, 1.0) AS p
    FROM session_capped AS c
    LEFT JOIN user_factor AS f ON f.user_id = c.user_id
)
SELECT trace_id, request_key, status, latency_ms, service_name, session_id, user_id, model,
       tool_signature, latency_tier, stratum, n, k, base_probability, p, u,
       least(1.0, p + CASE
           WHEN p >= 1.0 THEN 0.0
           WHEN p <= 0.0 THEN k / n
           ELSE coalesce(list_sum(list_transform(range(k), lambda j:
               (k - j) * exp(lgamma(n + 1) - lgamma(j + 1) - lgamma(n - j + 1) + j * ln(p) + (n - j) * ln(1 - p)))), 0) / n
       END) AS inclusion_probability,
       CASE WHEN u < p THEN 'poisson' WHEN k > 0 AND u <= minimum_u THEN 'stratum_minimum' END AS selected_by
FROM capped;
