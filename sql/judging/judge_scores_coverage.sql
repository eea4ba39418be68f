-- every_record_judged: (record, judge) pairs of the day with no score, and pairs scored more than once,
-- for the judges in $names.
WITH expected AS (
    SELECT d.trace_id, j.judge
    FROM eval_dataset AS d, (SELECT unnest($names::VARCHAR[]) AS judge) AS j
    WHERE d.trace_date = CAST($day AS DATE)
),
scored AS (
    SELECT trace_id, judge, count(*) AS n FROM judge_scores
    WHERE trace_date = CAST($day AS DATE) GROUP BY ALL
)
SELECT (SELECT count(*) FROM expected ANTI JOIN scored USING (trace_id, judge)) AS missing,
       (SELECT count(*) FROM scored WHERE n > 1) AS duplicated;
