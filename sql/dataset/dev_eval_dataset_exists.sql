-- Whether the warehouse has a dev_eval_dataset table (an older or read-only warehouse may not).
SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = 'dev_eval_dataset';
