-- The day's selection bookkeeping. Parameters: $day, $target_size, $latency_thresholds (DOUBLE[]).
INSERT INTO eval_dataset_days BY NAME
WITH day AS (
    SELECT count(*) AS traces FROM masked_traces WHERE trace_date = $day
),
kept AS (
    SELECT count(*) AS traces, count(*) FILTER (WHERE request_key IS NULL) AS without_request
    FROM eval_eligible
),
pop AS (
    SELECT count(*) AS eligible, count(DISTINCT request_key) AS unique_requests, count(DISTINCT stratum) AS strata,
           count(*) FILTER (WHERE selected_by IS NOT NULL) AS records,
           sum(inclusion_probability) AS expected_records,
           sum(inclusion_probability) FILTER (WHERE status = 'error') / nullif(sum(inclusion_probability), 0)
               AS expected_error_share,
           sum(1.0 / inclusion_probability) FILTER (WHERE selected_by IS NOT NULL) AS weight_sum,
           -- Horvitz-Thompson variance estimate of the weighted count.
           sqrt(sum((1 - inclusion_probability) / inclusion_probability ** 2)
                FILTER (WHERE selected_by IS NOT NULL)) AS weight_sum_se
    FROM eval_population
)
SELECT CAST($day AS DATE) AS trace_date, day.traces, day.traces - kept.traces AS filtered_out,
       kept.without_request AS traces_without_request, coalesce(pop.eligible, 0) AS eligible_traces,
       pop.unique_requests, pop.strata, pop.records, coalesce(pop.expected_records, 0) AS expected_records,
       pop.expected_error_share, coalesce(pop.weight_sum, 0) AS weight_sum,
       coalesce(pop.weight_sum_se, 0) AS weight_sum_se, $target_size AS target_size,
       CAST($latency_thresholds AS DOUBLE[]) AS latency_thresholds, NULL AS dataset_version
FROM day, kept, pop;
