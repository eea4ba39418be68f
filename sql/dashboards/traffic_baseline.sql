-- $day's traffic figures (error rate, latency p95, the agent's LLM cost per trace) next to their
-- trailing 7-day means, with the trace counts behind the error rates (for the significance test).
SELECT
    any_value(error_rate) FILTER (WHERE trace_date = $day) AS error_rate,
    avg(error_rate) FILTER (WHERE trace_date < $day) AS error_rate_baseline,
    any_value(latency_p95_ms) FILTER (WHERE trace_date = $day) AS latency_p95_ms,
    avg(latency_p95_ms) FILTER (WHERE trace_date < $day) AS latency_p95_baseline,
    any_value(agent_cost_usd / nullif(traces, 0)) FILTER (WHERE trace_date = $day) AS cost_per_trace,
    avg(agent_cost_usd / nullif(traces, 0)) FILTER (WHERE trace_date < $day) AS cost_per_trace_baseline,
    count(*) FILTER (WHERE trace_date < $day) AS baseline_days,
    any_value(traces) FILTER (WHERE trace_date = $day) AS traces,
    CAST(sum(traces) FILTER (WHERE trace_date < $day) AS DOUBLE) AS baseline_traces
FROM daily_metrics
WHERE trace_date BETWEEN CAST($day AS DATE) - 7 AND $day;
