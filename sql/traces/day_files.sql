-- Parquet of the landed files with spans starting on $day or the next day.
SELECT parquet
FROM landing_files
WHERE parquet IS NOT NULL
  AND (list_contains(days, CAST($day AS DATE)) OR list_contains(days, CAST($day AS DATE) + 1))
ORDER BY source_file;
