-- Cached files whose spans are not in landed_spans yet (registered by a version from before it existed).
SELECT source_file, parquet
FROM landing_files
WHERE parquet IS NOT NULL AND indexed IS NOT TRUE
ORDER BY source_file;
