"""The checks on the dashboard tables, as plain functions: the dashboards step evaluates them right after it
rebuilds the day's tables (so their outcomes exist before the report starts) and records them in
``check_results``. The rules live in ``drift`` and are reached through ``dashboards``."""

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

import duckdb

from eval_pipeline.lib import dashboards, drift
from eval_pipeline.lib.check_results import ERROR, WARN, CheckOutcome
from eval_pipeline.lib.config import Monitoring
from eval_pipeline.lib.judging.verdict import CALL_FAILURES, NO_ANSWER
from eval_pipeline.lib.metadata import md_table
from eval_pipeline.lib.warehouse import load_sql


def _rounded(v: Any) -> Any:
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, 6)
    return v


JUDGE_REGRESSION, TRAFFIC, JUDGES_ANSWER = ("judge_pass_rate_no_regression", "traffic_no_drift",
                                            "judges_answer_and_cost_stable")


def judge_pass_rate_no_regression(con: duckdb.DuckDBPyConnection, day: dt.date, m: Monitoring) -> CheckOutcome:
    """Today's weighted pass rate per judge (and stratum) vs the trailing 7 days, by the one regression rule."""
    drops, compared = dashboards.judge_regressions(con, day, m)
    regressed = [c for c in compared if c.regressed]
    table = md_table(["judge", "today vs trailing 7 days"], [(c.where, drift.describe(c.comparison)) for c in compared])
    return CheckOutcome(
        "daily_judge_results", JUDGE_REGRESSION, passed=not drops, severity=ERROR,
        description="; ".join(drops) if drops else None,
        figures={"regressions": drops, "compared": len(compared), "alpha": m.alpha,
                 "min_effective_n": m.min_effective_n, "min_baseline_days": m.min_baseline_days,
                 "regressed_judges": sorted({c.judge for c in regressed})},
        tables={"comparisons": table},
    )


def traffic_no_drift(con: duckdb.DuckDBPyConnection, day: dt.date, m: Monitoring) -> CheckOutcome:
    """Tool-path mix PSI, error rate, p95 latency and agent cost per trace of the day vs the trailing 7 days."""
    found, f = dashboards.traffic_drift(con, day, m)
    if found is None:
        return CheckOutcome("daily_metrics", TRAFFIC, passed=True, figures={
            "baseline_days": f["baseline_days"], "note": "not enough earlier days to compare"})
    return CheckOutcome(
        "daily_metrics", TRAFFIC, passed=not (found.warnings or found.errors),
        severity=ERROR if found.errors else WARN, description="; ".join(found.errors + found.warnings) or None,
        figures={k: _rounded(v) for k, v in {
            "error_rate": f["error_rate"], "error_rate_baseline": f["error_rate_baseline"],
            "error_rate_jump": m.error_rate_jump,
            "tool_path_psi": found.tool_path_psi, "psi_warn": m.psi_warn, "psi_error": m.psi_error,
            "latency_p95_ms": f["latency_p95_ms"], "latency_p95_baseline_ms": f["latency_p95_baseline"],
            "latency_p95_jump": m.latency_p95_jump,
            "cost_per_trace_usd": f["cost_per_trace"], "cost_per_trace_baseline_usd": f["cost_per_trace_baseline"],
            "cost_per_record_jump": m.cost_per_record_jump, "baseline_days": f["baseline_days"]}.items()},
    )


def judges_answer_and_cost_stable(con: duckdb.DuckDBPyConnection, day: dt.date, m: Monitoring) -> CheckOutcome:
    """Unknown rate per judge (calls that were possible) and cost per judged record vs the trailing days. A judge
    whose every call failed (the provider never answered: a setup problem) is an ERROR; the rest warns."""
    rows = con.execute(load_sql("dashboards/judge_unknowns"),
                       {"day": day, "no_answer_reasons": list(NO_ANSWER),
                        "call_failure_reasons": list(CALL_FAILURES)}).fetchall()
    problems, silent, dead = [], [], []
    for judge, unknown_rate, cost, cost_base, every_call_failed in rows:
        if every_call_failed:
            dead.append(judge)
            problems.append(f"{judge}: every call failed (check EVAL_JUDGE_MODEL, EVAL_JUDGE_API_BASE and the "
                            "provider key)")
        elif unknown_rate is not None and unknown_rate > m.unknown_rate_max:
            silent.append(judge)
            problems.append(f"{judge}: {unknown_rate:.1%} unknown (limit {m.unknown_rate_max:.0%})")
        if cost and cost_base and cost > m.cost_per_record_jump * cost_base:
            problems.append(f"{judge}: ${cost:.5f} per record, over {m.cost_per_record_jump}x the "
                            f"trailing ${cost_base:.5f}")
    return CheckOutcome(
        "daily_judge_results", JUDGES_ANSWER, passed=not problems, severity=ERROR if dead else WARN,
        description="; ".join(problems) or None,
        figures={"problems": problems, "unknown_rates": {j: _rounded(u) for j, u, *_ in rows},
                 "unknown_rate_max": m.unknown_rate_max, "cost_per_record_jump": m.cost_per_record_jump,
                 "judges_not_answering": silent + dead, "judges_every_call_failed": dead},
    )


DASHBOARD_CHECKS = {JUDGE_REGRESSION: judge_pass_rate_no_regression, TRAFFIC: traffic_no_drift,
                    JUDGES_ANSWER: judges_answer_and_cost_stable}


def evaluate_dashboard_checks(con: duckdb.DuckDBPyConnection, day: dt.date, m: Monitoring,
                              names: Iterable[str] = tuple(DASHBOARD_CHECKS)) -> list[CheckOutcome]:
    """The named dashboard checks on ``day``'s (already rebuilt) dashboard tables."""
    return [DASHBOARD_CHECKS[n](con, day, m) for n in names]
