import dagster as dg

from eval_pipeline.defs.checks_common import check_day
from eval_pipeline.lib import drift
from eval_pipeline.lib.dashboards import judge_regressions, traffic_drift
from eval_pipeline.lib.judging.verdict import NO_ANSWER
from eval_pipeline.lib.metadata import md_table
from eval_pipeline.lib.warehouse import load_sql
from eval_pipeline.resources import Settings, Warehouse


@dg.asset_check(asset="daily_judge_results", description="No judge's weighted pass rate (overall, or in a "
                "stratum with enough data) dropped significantly below its trailing 7-day rate.")
def judge_pass_rate_no_regression(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                                  settings: Settings) -> dg.AssetCheckResult:
    """Today's weighted pass rate per judge vs the trailing 7 days: a one-sided two-proportion test."""
    day = check_day(context)
    cfg = settings.config().monitoring
    with warehouse.get_connection() as con:
        drops, compared = judge_regressions(con, day, cfg)
    table = md_table(["judge", "today vs trailing 7 days"], [(c.where, drift.describe(c.comparison)) for c in compared])
    return dg.AssetCheckResult(
        passed=not drops,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(drops) if drops else None,
        metadata={"regressions": dg.MetadataValue.json(drops), "compared": len(compared),
                  "comparisons": dg.MetadataValue.md(table), "alpha": cfg.alpha},
    )


@dg.asset_check(asset="daily_metrics", description="Traffic looks like the trailing 7 days: tool-path mix "
                "(population stability index), error rate, latency p95 and the agent's LLM cost per trace "
                "within their configured jumps.")
def traffic_no_drift(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                     settings: Settings) -> dg.AssetCheckResult:
    """Tool-path mix PSI, error rate and p95 latency of the day vs the trailing 7 days."""
    day = check_day(context)
    with warehouse.get_connection() as con:
        found, f = traffic_drift(con, day, settings.config().monitoring)
    if found is None:
        return dg.AssetCheckResult(passed=True, metadata={"baseline_days": f["baseline_days"],
                                                          "note": "not enough earlier days to compare"})
    return dg.AssetCheckResult(
        passed=not (found.warnings or found.errors),
        severity=dg.AssetCheckSeverity.ERROR if found.errors else dg.AssetCheckSeverity.WARN,
        description="; ".join(found.errors + found.warnings) or None,
        metadata={"tool_path_psi": round(found.tool_path_psi, 4), "error_rate": f["error_rate"],
                  "error_rate_baseline": f["error_rate_baseline"], "latency_p95_ms": f["latency_p95_ms"],
                  "latency_p95_baseline_ms": f["latency_p95_baseline"], "cost_per_trace_usd": f["cost_per_trace"],
                  "cost_per_trace_baseline_usd": f["cost_per_trace_baseline"], "baseline_days": f["baseline_days"]},
    )


@dg.asset_check(asset="daily_judge_results", description="Judges answer: the unknown rate stays under its "
                "threshold where a model is configured, and spend per judged record does not jump.")
def judges_answer_and_cost_stable(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                                  settings: Settings) -> dg.AssetCheckResult:
    """Unknown rate per judge (calls that were possible) and cost per judged record vs the trailing days."""
    day = check_day(context)
    cfg = settings.config().monitoring
    with warehouse.get_connection() as con:
        rows = con.execute(load_sql("dashboards/judge_unknowns"),
                           {"day": day, "no_answer_reasons": list(NO_ANSWER)}).fetchall()
    problems = []
    for judge, unknown_rate, cost, cost_base in rows:
        if unknown_rate is not None and unknown_rate > cfg.unknown_rate_max:
            problems.append(f"{judge}: {unknown_rate:.1%} unknown (limit {cfg.unknown_rate_max:.0%})")
        if cost and cost_base and cost > cfg.cost_per_record_jump * cost_base:
            problems.append(f"{judge}: ${cost:.5f} per record, over {cfg.cost_per_record_jump}x the "
                            f"trailing ${cost_base:.5f}")
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(problems) or None,
        metadata={"problems": dg.MetadataValue.json(problems),
                  "unknown_rates": dg.MetadataValue.json({j: u for j, u, _, _ in rows})},
    )
