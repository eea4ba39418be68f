-- Retention: the landed files whose spans all started before $cutoff, and their Parquet (deleted after commit).
SELECT source_file, parquet
FROM landing_files
WHERE parquet IS NOT NULL AND expired_at IS NULL AND list_max(days) < $cutoff
ORDER BY source_file;
