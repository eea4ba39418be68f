import json

import dagster as dg

from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib import pricing, report
from eval_pipeline.lib.warehouse import load_sql, transaction
from eval_pipeline.resources import Settings, Warehouse

_TABLES = ("daily_metrics", "daily_judge_results", "daily_judge_strata")


@dg.multi_asset(
    specs=[
        dg.AssetSpec("daily_metrics", deps=["masked_traces", "eval_dataset"], kinds={"duckdb"},
                     group_name="dashboards", description="Daily traffic health: volume, error rate, "
                     "latency percentiles, tokens, top tool paths, quarantined records, dataset size."),
        dg.AssetSpec("daily_judge_results", deps=["judge_scores"], kinds={"duckdb"}, group_name="dashboards",
                     description="Per judge and day: verdict counts, unknown reasons, spend and the weighted "
                     "pass rate with its 95 % interval."),
        dg.AssetSpec("daily_judge_strata", deps=["judge_scores"], kinds={"duckdb"}, group_name="dashboards",
                     description="Per judge, stratum and day: the weighted pass rate with its 95 % interval."),
    ],
    partitions_def=daily_partitions,
    pool="warehouse",
)
def dashboards(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Rebuild the day's dashboard tables from masked tables and scores only."""
    day = context.partition_time_window.start.date()
    with warehouse.get_connection() as con:
        with transaction(con):
            for table in _TABLES:
                con.execute(f"DELETE FROM {table} WHERE trace_date = $day", {"day": day})  # noqa: S608 - fixed names
                con.execute(load_sql(f"dashboards/{table}_insert"), {"day": day})
            cost, unpriced = pricing.agent_cost(con.execute(load_sql("dashboards/model_usage"), {"day": day}).fetchall())
            con.execute("UPDATE daily_metrics SET agent_cost_usd = $cost, unpriced_models = $unpriced "
                        "WHERE trace_date = $day", {"cost": cost, "unpriced": unpriced, "day": day})
        m = con.execute("SELECT traces, error_rate, latency_p50_ms, latency_p95_ms, latency_p99_ms, input_tokens, "
                        "output_tokens, quarantined, dataset_records, top_tool_paths FROM daily_metrics "
                        "WHERE trace_date = $day", {"day": day}).fetchall()[0]
        judges = con.execute("SELECT judge, passed, failed, unknown, weighted_pass_rate, ci_low, ci_high, spend_usd "
                             "FROM daily_judge_results WHERE trace_date = $day ORDER BY judge", {"day": day}).fetchall()
        n_strata = con.execute("SELECT count(*) FROM daily_judge_strata WHERE trace_date = $day",
                               {"day": day}).fetchall()[0][0]
    traces, error_rate, p50, p95, p99, tin, tout, quarantined, records, paths = m
    paths_md = "| tool path | traces |\n|---|---|\n" + "".join(
        f"| {p['path']} | {p['traces']} |\n" for p in json.loads(paths or "[]"))
    yield dg.MaterializeResult(asset_key="daily_metrics", metadata={
        "traces": traces, "error_rate": round(error_rate or 0.0, 4), "latency_p50_ms": round(p50 or 0.0, 1),
        "latency_p95_ms": round(p95 or 0.0, 1), "latency_p99_ms": round(p99 or 0.0, 1),
        "input_tokens": tin, "output_tokens": tout, "quarantined": quarantined, "dataset_records": records,
        "top_tool_paths": dg.MetadataValue.md(paths_md),
        "agent_cost_usd": round(cost, 6), "agent_cost_per_trace_usd": round(cost / traces, 8) if traces else 0.0,
        "unpriced_models": dg.MetadataValue.json(unpriced),
    })
    table = "| judge | pass | fail | unknown | weighted pass rate | 95 % interval | spend |\n|---|---|---|---|---|---|---|\n" + "".join(
        f"| {j} | {p} | {f} | {u} | {report.pct(r)} | {report.pct(lo)} – {report.pct(hi)} | ${s or 0:.4f} |\n"
        for j, p, f, u, r, lo, hi, s in judges)
    yield dg.MaterializeResult(asset_key="daily_judge_results", metadata={
        "judges": dg.MetadataValue.md(table),
        **{f"pass_rate/{j}": float(r) for j, _, _, _, r, _, _, _ in judges if r is not None},
        "judge_spend_usd": round(sum(s or 0.0 for *_, s in judges), 6),
    })
    yield dg.MaterializeResult(asset_key="daily_judge_strata", metadata={"rows": n_strata})


@dg.asset(
    deps=["daily_metrics", "daily_judge_results", "daily_judge_strata", "judge_agreement"],
    partitions_def=daily_partitions,
    kinds={"html"},
    group_name="dashboards",
    pool="warehouse",
)
def daily_report(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: Settings) -> dg.MaterializeResult:
    """A self-contained HTML report of the day (charts, tables, 30-day trends) and the index of all days."""
    day = context.partition_time_window.start.date()
    with warehouse.get_connection() as con:
        def rows(sql: str, params: dict) -> list[dict]:
            return con.sql(sql, params=params).to_arrow_table().to_pylist()

        metrics = rows("SELECT * FROM daily_metrics WHERE trace_date = $day", {"day": day})
        for r in metrics:
            r["top_tool_paths"] = json.loads(r["top_tool_paths"] or "[]")
        judges = rows("SELECT * FROM daily_judge_results WHERE trace_date = $day ORDER BY judge", {"day": day})
        for j in judges:
            j["unknown_reasons"] = dict(j["unknown_reasons"] or [])
        strata = rows("SELECT * FROM daily_judge_strata WHERE trace_date = $day ORDER BY judge, judged DESC, stratum",
                      {"day": day})
        agreement = rows("SELECT * FROM judge_agreement WHERE trace_date = $day ORDER BY judge", {"day": day})
        traffic = rows(load_sql("dashboards/traffic_trend"), {"day": day})
        trend = rows(load_sql("dashboards/judge_trend"), {"day": day})
        days = rows(load_sql("dashboards/report_days"), {})
    out_dir = settings.reports_dir()
    (out_dir / "daily").mkdir(parents=True, exist_ok=True)
    page = out_dir / "daily" / f"{day}.html"
    _write_atomically(page, report.render_day(day, metrics[0] if metrics else None, judges, strata, traffic, trend,
                                                      agreement))
    _write_atomically(out_dir / "index.html", report.render_index(days))
    regressions = sorted({r["judge"] for r in trend if r["trace_date"] == day and r["regression"]})
    context.log.info("%s: report written to %s", day, page)
    return dg.MaterializeResult(metadata={
        "report": dg.MetadataValue.path(str(page)),
        "index": dg.MetadataValue.path(str(out_dir / "index.html")),
        "regressions": dg.MetadataValue.json(regressions),
    })


def _write_atomically(path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
