-- The dev-eval dataset for the window [$start, $end]: the daily eval records of those days (one per drawn
-- trace) with the traces of one request collapsed into one record, within a day and across days. Its
-- weight carries every collapsed record's weight (so weighted sums still estimate the window's traffic)
-- and duplicate_count the traces of the window that asked it. The representative is chosen by a keyed hash.
-- Parameters: $start, $end, $seed.
INSERT INTO dev_eval_dataset BY NAME
WITH window_records AS (
    SELECT *, coalesce(request_key, md5(lower(trim(regexp_replace(request, '\s+', ' ', 'g'))))) AS dedup_key
    FROM eval_dataset
    WHERE trace_date BETWEEN $start AND $end
),
grouped AS (
    SELECT dedup_key, sum(weight) AS weight,
           arg_min(w, {'k': md5($seed || ':representative:' || trace_id), 'id': trace_id}) AS r
    FROM window_records AS w
    GROUP BY dedup_key
),
-- duplicate_count is the day's count on each of a day's records: count it once per day.
traffic AS (
    SELECT dedup_key, sum(duplicate_count) AS duplicate_count
    FROM (SELECT DISTINCT dedup_key, trace_date, duplicate_count FROM window_records)
    GROUP BY dedup_key
)
SELECT CAST($end AS DATE) AS window_end, CAST($start AS DATE) AS window_start, r.trace_id, r.trace_date,
       r.request, r.response, r.tool_path, r.retrieved_context, r.status, r.latency_tier, r.stratum, r.model,
       r.service_name, r.latency_ms, r.inclusion_probability, g.weight, t.duplicate_count,
       g.dedup_key AS request_key, NULL AS dataset_version, r.tool_calls, r.error_type, r.error_message
FROM grouped AS g
JOIN traffic AS t USING (dedup_key);
