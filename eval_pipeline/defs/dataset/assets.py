import dagster as dg

from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib.warehouse import load_sql, transaction
from eval_pipeline.resources import Settings, Warehouse


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
    params = {"day": day, "target_size": s.target_size, "min_per_stratum": s.min_per_stratum,
              "error_oversample": s.error_oversample, "seed": s.seed}
    with warehouse.get_connection() as con:
        with transaction(con):
            con.execute("DELETE FROM eval_dataset WHERE trace_date = $day", {"day": day})
            con.execute(load_sql("eval_dataset_insert"), params)
            con.execute(load_sql("eval_dataset_version"), {"day": day})
        summary = con.execute(load_sql("eval_dataset_summary"), {"day": day}).fetchall()
        eligible, no_request = con.execute(
            "SELECT count(*) FILTER (WHERE request IS NOT NULL AND trim(request) <> ''), "
            "count(*) FILTER (WHERE request IS NULL OR trim(request) = '') FROM masked_traces WHERE trace_date = $day",
            {"day": day}).fetchall()[0]
    records = sum(r[1] for r in summary)
    weight = sum(r[3] for r in summary)
    table = "| stratum | records | errors | weight |\n|---|---|---|---|\n" + "".join(
        f"| {st} | {n} | {e} | {w:.1f} |\n" for st, n, e, w, _ in summary)
    context.log.info("%s: %d records from %d eligible traces in %d strata", day, records, eligible, len(summary))
    return dg.MaterializeResult(metadata={
        "dagster/row_count": records,
        "records": records,
        "strata": len(summary),
        "eligible_traces": eligible,
        "traces_without_request": no_request,
        "weight_sum": round(weight, 1),
        "dataset_version": summary[0][4] if summary else "",
        "strata_table": dg.MetadataValue.md(table),
    })
