-- Example records behind an error-rate jump: $day's error records of the eval dataset, the heaviest first,
-- with their error (masked, names included, on the record) and every judge's rationale for failing them.
-- Masked tables only.
SELECT d.trace_id, d.stratum, d.request, d.response,
       concat_ws(': ', d.error_type, d.error_message) AS error,
       string_agg(s.judge || ': ' || s.rationale, ' · ' ORDER BY s.judge) FILTER (WHERE s.verdict = 'fail')
           AS rationale
FROM eval_dataset AS d
LEFT JOIN judge_scores AS s USING (trace_id, trace_date)
WHERE d.trace_date = $day AND d.status = 'error'
GROUP BY d.trace_id, d.stratum, d.request, d.response, d.error_type, d.error_message, d.weight
ORDER BY d.weight DESC, d.trace_id
LIMIT $limit;
