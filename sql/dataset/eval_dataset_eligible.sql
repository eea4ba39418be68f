-- The day's traces that pass the configured filters, with what the selection needs: the primary model,
-- the tool signature (consecutive repeats collapsed), the normalised request's key (NULL: no request;
-- traces with the same key are duplicates) and the keyed hash of the trace id. Reads the temp view eval_source (masked_traces narrowed by the
-- configured predicate).
-- Parameters: $day, $seed, $services (VARCHAR[]), $models (VARCHAR[]), $start_date, $end_date (DATE or NULL).
CREATE OR REPLACE TEMP TABLE eval_eligible AS
WITH filtered AS (
    SELECT trace_id, status, latency_ms, service_name, session_id, user_id, tool_path,
           coalesce(models[1], '(no model)') AS model,
           -- Masked placeholders (<EMAIL:7f3a9c>) lose their pseudonym: two requests that differ only in
           -- whose email they carry are the same question. The guard skips the regular expression for
           -- the many requests it would not change.
           CASE WHEN contains(request, '<') THEN regexp_replace(request, '<([A-Z_]+):[0-9a-f]+>', '<\1>', 'g')
                ELSE request END AS r,
           md5($seed || ':' || trace_id) AS h
    FROM eval_source
    WHERE trace_date = $day
      AND (len($services) = 0 OR list_contains($services, service_name))
      AND (len($models) = 0 OR len(list_intersect($models, models)) > 0)
      AND (CAST($start_date AS DATE) IS NULL OR trace_date >= CAST($start_date AS DATE))
      AND (CAST($end_date AS DATE) IS NULL OR trace_date <= CAST($end_date AS DATE))
),
normalised AS (
    SELECT * EXCLUDE (r, tool_path),
           coalesce(nullif(array_to_string(
               list_filter(tool_path, lambda x, i: i = 1 OR x <> tool_path[i - 1]), '>'), ''), '(no tools)')
               AS tool_signature,
           -- Case and whitespace are folded too (the guard again skips requests already clean).
           nullif(lower(trim(CASE WHEN contains(r, '  ') OR contains(r, chr(9)) OR contains(r, chr(10))
                                       OR contains(r, chr(13)) OR contains(r, chr(12))
                                  THEN regexp_replace(r, '\s+', ' ', 'g')
                                  ELSE r END)), '') AS norm_request
    FROM filtered
)
SELECT * EXCLUDE (norm_request, h),
       md5(norm_request) AS request_key,
       -- A uniform number from 60 bits of the keyed md5: the trace is drawn when it is below its probability.
       CAST('0x' || substr(h, 1, 15) AS UBIGINT) / 1152921504606846976.0 AS u
FROM normalised;
