-- Example records behind a judge that stopped answering: $day's verdicts of $judges that came back
-- unknown for one of $reasons (the calls that could have answered), the heaviest records first. Masked
-- tables only.
SELECT s.trace_id, d.stratum, d.request, d.response,
       s.judge || ': ' || s.unknown_reason || coalesce(' (' || s.rationale || ')', '') AS rationale
FROM judge_scores AS s
JOIN eval_dataset AS d USING (trace_id, trace_date)
WHERE s.trace_date = $day AND s.verdict = 'unknown'
  AND list_contains(CAST($judges AS VARCHAR[]), s.judge)
  AND list_contains(CAST($reasons AS VARCHAR[]), s.unknown_reason)
ORDER BY d.weight DESC, s.trace_id
LIMIT $limit;
