-- The landed copy kept for each (trace_id, span_id) of the traces whose root started on $day, and the
-- trace's root. The root is the span without a parent (the earliest, if a broken exporter sent several);
-- only when there is none, the earliest span whose parent is not in the trace (partial export, sampling).
-- So a child stamped before its root by a skewed clock, or a child whose own parent was lost, joins the
-- root's trace and day whatever the skew.
CREATE OR REPLACE TEMP TABLE day_spans AS
WITH dedup AS (
    SELECT *
    FROM day_spans_all
    -- A span delivered twice is stored once: keep the most complete copy (latest end), then the first seen.
    QUALIFY row_number() OVER (PARTITION BY trace_id, span_id
                               ORDER BY end_ns DESC, source_file, source_index) = 1
),
roots AS (
    SELECT d.trace_id, d.span_id AS root_span_id, d.start_ns AS root_start_ns
    FROM dedup AS d
    LEFT JOIN dedup AS p ON p.trace_id = d.trace_id AND p.span_id = d.parent_span_id
    WHERE d.parent_span_id IS NULL OR p.span_id IS NULL
    QUALIFY row_number() OVER (PARTITION BY d.trace_id
                               ORDER BY d.parent_span_id IS NOT NULL, d.start_ns, d.span_id) = 1
)
SELECT d.source_file, d.source_index, r.root_span_id
FROM dedup AS d
JOIN roots AS r USING (trace_id)
WHERE CAST(make_timestamp(r.root_start_ns // 1000) AS DATE) = $day;
