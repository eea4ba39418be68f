-- Rows and an order-independent digest of every row of a check's frame for $day: the frame's query (a file
-- of sql/, never user text) takes the marker's place. Equal digests mean the check would see the same rows.
SELECT count(*) AS n, coalesce(sum(hash(f)), 0)::VARCHAR AS digest
FROM (/* frame */) AS f;
