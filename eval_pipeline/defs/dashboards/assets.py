import dagster as dg

from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib.warehouse import load_sql, transaction
from eval_pipeline.resources import Warehouse


@dg.multi_asset(
    specs=[
        dg.AssetSpec("daily_metrics", deps=["masked_traces", "eval_dataset"], kinds={"duckdb"},
                     group_name="dashboards", description="Daily traffic health: volume, error rate, "
                     "latency percentiles, tokens, quarantined records, dataset size."),
        dg.AssetSpec("daily_judge_results", deps=["judge_scores"], kinds={"duckdb"}, group_name="dashboards",
                     description="Per judge and day: verdict counts, unknown reasons and the weighted pass rate."),
    ],
    partitions_def=daily_partitions,
    pool="warehouse",
)
def dashboards(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Rebuild the day's dashboard tables from masked tables and scores only."""
    day = context.partition_time_window.start.date()
    with warehouse.get_connection() as con:
        with transaction(con):
            for table in ("daily_metrics", "daily_judge_results"):
                con.execute(f"DELETE FROM {table} WHERE trace_date = $day", {"day": day})  # noqa: S608 - fixed names
                con.execute(load_sql(f"{table}_insert"), {"day": day})
        m = con.execute("SELECT traces, error_rate, latency_p50_ms, latency_p95_ms, latency_p99_ms, input_tokens, "
                        "output_tokens, quarantined, dataset_records FROM daily_metrics WHERE trace_date = $day",
                        {"day": day}).fetchall()[0]
        judges = con.execute("SELECT judge, passed, failed, unknown, weighted_pass_rate FROM daily_judge_results "
                             "WHERE trace_date = $day ORDER BY judge", {"day": day}).fetchall()
    traces, error_rate, p50, p95, p99, tin, tout, quarantined, records = m
    yield dg.MaterializeResult(asset_key="daily_metrics", metadata={
        "traces": traces, "error_rate": round(error_rate or 0.0, 4), "latency_p50_ms": round(p50 or 0.0, 1),
        "latency_p95_ms": round(p95 or 0.0, 1), "latency_p99_ms": round(p99 or 0.0, 1),
        "input_tokens": tin, "output_tokens": tout, "quarantined": quarantined, "dataset_records": records,
    })
    table = "| judge | pass | fail | unknown | weighted pass rate |\n|---|---|---|---|---|\n" + "".join(
        f"| {j} | {p} | {f} | {u} | {'n/a' if r is None else f'{r:.1%}'} |\n" for j, p, f, u, r in judges)
    yield dg.MaterializeResult(asset_key="daily_judge_results", metadata={
        "judges": dg.MetadataValue.md(table),
        **{f"pass_rate/{j}": float(r) for j, _, _, _, r in judges if r is not None},
    })
