import dagster as dg

from eval_pipeline.defs.checks_common import check_day
from eval_pipeline.lib import drift
from eval_pipeline.lib.judging.verdict import NO_ANSWER
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
        rows = con.execute(load_sql("dashboards/judge_rates_baseline"), {"day": day}).fetchall()
    drops, compared = drift.pass_rate_regressions(rows, alpha=cfg.alpha, min_baseline_days=cfg.min_baseline_days,
                                                  min_effective_n=cfg.min_effective_n)
    table = "| judge | today vs trailing 7 days |\n|---|---|\n" + "\n".join(compared)
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
    cfg = settings.config().monitoring
    with warehouse.get_connection() as con:
        mix = con.execute(load_sql("dashboards/tool_path_mix"), {"day": day}).fetchall()
        err, err_base, p95, p95_base, cost, cost_base, base_days = con.execute(
            load_sql("dashboards/traffic_baseline"), {"day": day}).fetchall()[0]
    if base_days < cfg.min_baseline_days:
        return dg.AssetCheckResult(passed=True, metadata={"baseline_days": base_days,
                                                          "note": "not enough earlier days to compare"})
    today = {p: n for is_today, p, n in mix if is_today}
    before = {p: n for is_today, p, n in mix if not is_today}
    index = drift.psi(before, today)
    problems, errors = [], []
    if index > cfg.psi_error:
        errors.append(f"tool-path mix shifted: PSI {index:.3f} > {cfg.psi_error}")
    elif index > cfg.psi_warn:
        problems.append(f"tool-path mix moved: PSI {index:.3f} > {cfg.psi_warn}")
    if err is not None and err_base and err > cfg.error_rate_jump * err_base:
        problems.append(f"error rate {err:.1%} is over {cfg.error_rate_jump}x the trailing {err_base:.1%}")
    if p95 is not None and p95_base and p95 > cfg.latency_p95_jump * p95_base:
        problems.append(f"latency p95 {p95:,.0f} ms is over {cfg.latency_p95_jump}x the trailing {p95_base:,.0f} ms")
    if cost is not None and cost_base and cost > cfg.cost_per_record_jump * cost_base:
        problems.append(f"agent LLM cost per trace ${cost:.5f} is over {cfg.cost_per_record_jump}x the trailing "
                        f"${cost_base:.5f}")
    return dg.AssetCheckResult(
        passed=not (problems or errors),
        severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
        description="; ".join(errors + problems) or None,
        metadata={"tool_path_psi": round(index, 4), "error_rate": err, "error_rate_baseline": err_base,
                  "latency_p95_ms": p95, "latency_p95_baseline_ms": p95_base, "cost_per_trace_usd": cost,
                  "cost_per_trace_baseline_usd": cost_base, "baseline_days": base_days},
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
