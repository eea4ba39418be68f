-- The Parquet of a landing file's previous reading, deleted once the new reading is registered.
SELECT parquet
FROM landing_files
WHERE source_file = $source_file;
