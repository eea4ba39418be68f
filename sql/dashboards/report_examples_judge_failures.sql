-- Example records behind a pass-rate drop: $day's records $judge failed (in $stratum; any stratum when it
-- is NULL), the heaviest first (each stands for the most traffic). Masked tables only: the request and
-- response come from eval_dataset, the rationale from judge_scores.
SELECT s.trace_id, d.stratum, d.request, d.response, s.judge || ': ' || s.rationale AS rationale
FROM judge_scores AS s
JOIN eval_dataset AS d USING (trace_id, trace_date)
WHERE s.trace_date = $day AND s.judge = $judge AND s.verdict = 'fail'
  AND (CAST($stratum AS VARCHAR) IS NULL OR d.stratum = $stratum)
ORDER BY d.weight DESC, s.trace_id
LIMIT $limit;
