-- For gate $gate_id: the production records of its dev-eval window, how many have a candidate_responses
-- row (answered or failed), how many rows are duplicates, and how many failed.
SELECT (SELECT count(*) FROM dev_eval_dataset WHERE window_end = $window_end) AS records,
       count(DISTINCT record_id) FILTER (WHERE section = 'production') AS recorded,
       count(*) - count(DISTINCT record_id) AS duplicated,
       count(*) FILTER (WHERE status = 'error') AS failed
FROM candidate_responses
WHERE gate_id = $gate_id;
