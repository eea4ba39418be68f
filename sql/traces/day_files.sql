-- The Parquet of the landed files holding the spans kept for the day (day_spans.sql).
SELECT DISTINCT parquet
FROM landing_files
WHERE parquet IS NOT NULL
  AND source_file IN (SELECT source_file FROM day_spans)
ORDER BY parquet;
