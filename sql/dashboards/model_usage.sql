-- The agent's token usage per model on $day (LLM spans only), from masked traces.
SELECT u.model, sum(u.input_tokens) AS input_tokens, sum(u.output_tokens) AS output_tokens
FROM (SELECT unnest(model_usage) AS u FROM masked_traces WHERE trace_date = $day)
GROUP BY u.model
ORDER BY u.model;
