-- Macros the queries share (DuckDB stores them in the warehouse; re-created with the schema).

-- The landed files that count for a day's quarantine figures: those with spans of the day, and those
-- that yielded no span at all, dated by their modification time (when they landed).
CREATE OR REPLACE MACRO quarantine_files(d) AS TABLE
SELECT *
FROM landing_files
WHERE list_contains(days, d)
   OR (span_count = 0 AND CAST(make_timestamp(mtime_ns // 1000) AS DATE) = d);

-- A trace's latency tier: tier k lies between thresholds k - 1 and k ('<=p50', 'p50-p90', 'p90-p99', '>p99');
-- t holds the day's thresholds (quantiles or SLO values), labels one name per tier (one more than t).
CREATE OR REPLACE MACRO latency_tier(ms, t, labels) AS
CASE WHEN ms IS NULL THEN '(no latency)' ELSE labels[1 + len(list_filter(t, lambda x: ms > x))] END;
