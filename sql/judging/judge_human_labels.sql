-- Human labels for the records judged on $day: rows of the human_labels table, and the feedback the
-- traces carry (gen_ai.evaluation.result span events, feedback.<judge> span attributes), which the
-- masking step extracts into masked_traces.feedback: no raw table is read after masking.
WITH day_traces AS (
    SELECT DISTINCT trace_id FROM judge_scores WHERE trace_date = $day
),
labels AS (
    SELECT h.trace_id, h.judge, h.label, 'table' AS source
    FROM human_labels AS h
    SEMI JOIN day_traces AS d USING (trace_id)
    UNION ALL
    SELECT m.trace_id, f.judge, f.label, 'trace' AS source
    FROM (SELECT trace_id, unnest(feedback) AS f FROM masked_traces WHERE trace_date = $day) AS m
    SEMI JOIN day_traces AS d USING (trace_id)
)
SELECT trace_id, judge, label, source
FROM labels
WHERE judge IS NOT NULL AND label IS NOT NULL AND length(label) <= 32
ORDER BY source, trace_id, judge;
