INSERT INTO masked_traces BY NAME
SELECT * REPLACE (map_from_entries(pii_found) AS pii_found)
FROM masked_rows;
