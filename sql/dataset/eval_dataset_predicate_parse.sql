-- DuckDB's parse tree of the query $q as JSON: lib.sampling checks the configured filters.where predicate
-- (one condition over masked_traces, no subquery) on it before the predicate is used.
SELECT json_serialize_sql($q);
