-- Store new judgements (registered relation new_judgements) in the cache; a key already there keeps its row.
INSERT INTO judge_cache BY NAME
SELECT * FROM new_judgements
ON CONFLICT (cache_key) DO NOTHING;
