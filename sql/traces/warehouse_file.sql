-- The file of the connected warehouse (empty for an in-memory database): the Parquet cache goes beside it.
SELECT path
FROM duckdb_databases()
WHERE database_name = current_database();
