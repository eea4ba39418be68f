-- The cached judgements among the keys in the registered relation wanted_keys(cache_key).
SELECT c.cache_key, c.verdict, c.rationale, c.input_tokens, c.output_tokens, c.cost_usd, c.latency_ms
FROM judge_cache AS c
SEMI JOIN wanted_keys AS w USING (cache_key);
