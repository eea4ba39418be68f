"""A day's dashboards: the tables ``daily_metrics``, ``daily_judge_results`` and ``daily_judge_strata``, what
their assets show in the Dagster UI, and the warehouse side of the drift and regression checks (whose rules
live in ``drift``; the checks themselves in ``dashboard_checks``, the report's reads in ``report.inputs``).
Everything here reads masked tables and scores only; the SQL is in ``sql/dashboards/``."""

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import duckdb

from eval_pipeline.lib import drift, estimates, pricing
from eval_pipeline.lib.config import Monitoring
from eval_pipeline.lib.metadata import md_table
from eval_pipeline.lib.report.html import pct
from eval_pipeline.lib.warehouse import load_sql

_DAY_TABLES = ("daily_metrics", "daily_judge_results", "daily_judge_strata")


@dataclass(frozen=True)
class DayTables:
    """What the dashboards asset shows for a day: plain figures and the markdown tables of its metadata."""

    metrics: dict[str, Any]  # daily_metrics' figures, rounded for people
    unpriced_models: list[str]
    tool_paths_md: str
    judges_md: str
    pass_rates: dict[str, float]  # "pass_rate/<judge>": the weighted pass rate
    judge_spend_usd: float  # of the priced calls
    strata_rows: int
    judge_unpriced_calls: int = 0  # answered judge calls without a price, left out of judge_spend_usd


def query_rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> list[dict]:
    """The rows of ``sql/<sql>.sql`` as dicts."""
    return con.sql(load_sql(sql), params=params).to_arrow_table().to_pylist()


def write_daily_metrics(con: duckdb.DuckDBPyConnection, day: dt.date) -> None:
    """Insert ``day``'s daily_metrics row, with the agent's LLM cost priced first so the row is written once."""
    cost, unpriced = pricing.agent_cost(con.execute(load_sql("dashboards/model_usage"), {"day": day}).fetchall())
    con.execute(load_sql("dashboards/daily_metrics_insert"),
                {"day": day, "agent_cost_usd": cost, "unpriced_models": unpriced})


def rebuild_day(con: duckdb.DuckDBPyConnection, day: dt.date) -> DayTables:
    """Replace ``day``'s rows of the three dashboard tables; the caller owns the transaction."""
    for table in _DAY_TABLES:
        con.execute(load_sql(f"dashboards/{table}_delete_day"), {"day": day})
    write_daily_metrics(con, day)
    estimates.write_day(con, day)
    [m] = query_rows(con, "dashboards/daily_metrics_day", {"day": day})
    judges = query_rows(con, "dashboards/daily_judge_results_day", {"day": day})
    strata = query_rows(con, "dashboards/daily_judge_strata_day", {"day": day})
    cost, traces = m["agent_cost_usd"], m["traces"]
    figures = {
        "traces": traces, "error_rate": round(m["error_rate"] or 0.0, 4),
        **{k: round(m[k] or 0.0, 1) for k in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")},
        **{k: m[k] for k in ("input_tokens", "output_tokens", "quarantined", "dataset_records")},
        "agent_cost_usd": round(cost, 6), "agent_cost_per_trace_usd": round(cost / traces, 8) if traces else 0.0,
    }
    paths = json.loads(m["top_tool_paths"] or "[]")
    return DayTables(
        metrics=figures, unpriced_models=list(m["unpriced_models"] or []),
        tool_paths_md=md_table(["tool path", "traces"], [(p["path"], p["traces"]) for p in paths]),
        judges_md=md_table(["judge", "pass", "fail", "unknown", "weighted pass rate", "95 % interval", "spend"], [
            (j["judge"], j["passed"], j["failed"], j["unknown"], pct(j["weighted_pass_rate"]),
             f'{pct(j["ci_low"])} – {pct(j["ci_high"])}', pricing.spend_label(j["spend_usd"], j["unpriced_calls"]))
            for j in judges]),
        pass_rates={f'pass_rate/{j["judge"]}': float(j["weighted_pass_rate"])
                    for j in judges if j["weighted_pass_rate"] is not None},
        judge_spend_usd=round(sum(j["spend_usd"] or 0.0 for j in judges), 6),
        judge_unpriced_calls=sum(j["unpriced_calls"] or 0 for j in judges),
        strata_rows=len(strata),
    )


def judge_regressions(con: duckdb.DuckDBPyConnection, day: dt.date,
                      m: Monitoring) -> tuple[list[str], list[drift.PassRateComparison]]:
    """``day``'s pass-rate drops by the one regression rule (``drift.pass_rate_regressions``): (the drops as
    sentences, every comparison made). The check and the report both ask here."""
    return drift.pass_rate_regressions(estimates.rate_rows(con, day), alpha=m.alpha, min_baseline_days=m.min_baseline_days,
                                       min_effective_n=m.min_effective_n)


def traffic_drift(con: duckdb.DuckDBPyConnection, day: dt.date,
                  m: Monitoring) -> tuple[drift.TrafficDrift | None, dict[str, Any]]:
    """``day``'s traffic against the trailing 7 days by ``drift.traffic_drift``, and the figures compared
    (with ``baseline_days``). None instead of a finding when fewer than ``min_baseline_days`` came before."""
    mix = con.execute(load_sql("dashboards/tool_path_mix"), {"day": day}).fetchall()
    [figures] = query_rows(con, "dashboards/traffic_baseline", {"day": day})
    if figures["baseline_days"] < m.min_baseline_days:
        return None, figures
    today = {p: n for is_today, p, n in mix if is_today}
    before = {p: n for is_today, p, n in mix if not is_today}
    return drift.traffic_drift(today, before, figures, m), figures
