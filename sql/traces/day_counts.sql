-- After a day's rollup: the landed copies of its spans, the spans kept (one per span id) and its traces.
SELECT (SELECT count(*) FROM day_spans_all) AS landed,
       (SELECT count(*) FROM day_spans) AS spans,
       (SELECT count(*) FROM raw_traces WHERE trace_date = $day) AS traces;
