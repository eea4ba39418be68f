import datetime as dt

import dagster as dg

from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib import sampling
from eval_pipeline.lib.config import DevEval
from eval_pipeline.lib.warehouse import load_sql, transaction
from eval_pipeline.resources import Settings, Warehouse

_PREVIEW_STRATA = 25


@dg.asset(
    deps=["masked_traces"],
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    group_name="dataset",
    pool="warehouse",
)
def eval_dataset(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: Settings) -> dg.MaterializeResult:
    """The day's evaluation records: a stratified, error-biased, deduplicated sample with inclusion weights."""
    day = context.partition_time_window.start.date()
    s = settings.config().sampling
    with warehouse.get_connection() as con:
        with transaction(con):
            sel = sampling.select_day(con, day, s)
        strata = con.execute(
            "SELECT stratum, traces, records, expected_records, weight FROM eval_dataset_strata "
            "WHERE trace_date = $day ORDER BY traces DESC, stratum", {"day": day}).fetchall()
    table = "| stratum | traces | records | expected | weight |\n|---|---|---|---|---|\n" + "".join(
        f"| {st} | {n} | {r} | {e:.1f} | {w:.1f} |\n" for st, n, r, e, w in strata[:_PREVIEW_STRATA])
    if len(strata) > _PREVIEW_STRATA:
        table += f"\n{len(strata) - _PREVIEW_STRATA} smaller strata in table eval_dataset_strata.\n"
    context.log.info("%s: %d records from %d eligible traces in %d strata", day, sel.records,
                     sel.eligible_traces, sel.strata)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": sel.records,
        "records": sel.records,
        "expected_records": round(sel.expected_records, 1),
        "strata": sel.strata,
        "eligible_traces": sel.eligible_traces,
        "unique_requests": sel.unique_requests,
        "traces_without_request": sel.traces_without_request,
        "filtered_out": sel.filtered_out,
        "weight_sum": round(sel.weight_sum, 1),
        "expected_error_share": round(sel.expected_error_share or 0.0, 4),
        "latency_thresholds_ms": dg.MetadataValue.json([round(t, 1) for t in sel.latency_thresholds]),
        "dataset_version": sel.dataset_version or "",
        "strata_table": dg.MetadataValue.md(table),
    })


@dg.asset(
    # The mapping shows the default window (dev_eval.window_days = 7); the asset reads the configured one.
    deps=[dg.AssetDep("eval_dataset", partition_mapping=dg.TimeWindowPartitionMapping(
        start_offset=-(DevEval().window_days - 1)))],
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    group_name="dev_eval",
    pool="warehouse",
)
def dev_eval_dataset(context: dg.AssetExecutionContext, warehouse: Warehouse,
                     settings: Settings) -> dg.MaterializeResult:
    """The dev-time eval dataset: the daily datasets of the window ending on the partition's day, deduplicated."""
    # Not in daily_eval: it changes only when someone materializes it, so a release decision can cite a
    # dataset_version (a content hash) that no nightly run will move.
    config = settings.config()
    if config.dev_eval.window_days < 1:
        msg = f"dev_eval.window_days must be at least 1, got {config.dev_eval.window_days}."
        raise ValueError(msg)
    end = context.partition_time_window.start.date()
    start = end - dt.timedelta(days=config.dev_eval.window_days - 1)
    with warehouse.get_connection() as con:
        with transaction(con):
            con.execute("DELETE FROM dev_eval_dataset WHERE window_end = $end", {"end": end})
            con.execute(load_sql("dataset/dev_eval_dataset_insert"), {"start": start, "end": end, "seed": config.sampling.seed})
            con.execute(load_sql("dataset/dev_eval_dataset_version"), {"end": end})
        records, errors, weight, version, days = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'error'), coalesce(sum(weight), 0), "
            "any_value(dataset_version), count(DISTINCT trace_date) FROM dev_eval_dataset WHERE window_end = $end",
            {"end": end}).fetchall()[0]
        selected_days = {d for (d,) in con.execute(
            "SELECT trace_date FROM eval_dataset_days WHERE trace_date BETWEEN $start AND $end",
            {"start": start, "end": end}).fetchall()}
    missing = [str(start + dt.timedelta(days=i)) for i in range(config.dev_eval.window_days)
               if start + dt.timedelta(days=i) not in selected_days]
    if missing:
        context.log.warning("dev_eval_dataset %s..%s: no eval_dataset for %d day(s) of the window (%s); "
                            "materialize eval_dataset for them and rebuild.", start, end, len(missing),
                            ", ".join(missing[:5]))
    context.log.info("dev_eval_dataset %s..%s: %d records, version %s", start, end, records, version)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": records,
        "records": records,
        "error_records": errors,
        "weight_sum": round(weight, 1),
        "window": f"{start}..{end}",
        "days_with_records": days,
        "days_without_dataset": dg.MetadataValue.json(missing),
        "dataset_version": version or "",
    })
