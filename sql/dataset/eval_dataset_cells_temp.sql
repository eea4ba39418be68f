-- The day's cells with the stratum each was merged into (eval_pipeline.lib.strata.merge), from the
-- registered relation cell_strata, kept for the population query and the bookkeeping.
CREATE OR REPLACE TEMP TABLE eval_cells AS
SELECT tool_signature, status, latency_tier, model, traces, stratum, stratum_tool_signature,
       stratum_latency_tier, stratum_model, demand_factor
FROM cell_strata;
