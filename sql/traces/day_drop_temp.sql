-- The rollup's temporary tables (day_candidates.sql, day_spans.sql), once the day is counted.
DROP TABLE IF EXISTS day_spans;
DROP TABLE IF EXISTS day_spans_all;
