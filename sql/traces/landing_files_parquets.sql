-- Every Parquet file of the cache a landing file refers to (the rest are leftovers of killed runs).
SELECT parquet
FROM landing_files
WHERE parquet IS NOT NULL;
