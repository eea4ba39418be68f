-- Retention: the spans of the days before $cutoff go; raw_traces and everything built from it stay.
DELETE FROM spans
WHERE trace_date < $cutoff;
