-- The day's scores a new run would ask again: unknown because the call failed or ran out of budget, not
-- because the judge answered so or had nothing to grade ($reasons: lib.fingerprints.RETRIED_REASONS).
SELECT count(*)
FROM judge_scores
WHERE trace_date = $day AND verdict = 'unknown' AND list_contains($reasons, unknown_reason);
