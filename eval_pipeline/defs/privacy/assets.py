import dagster as dg
import pyarrow as pa

from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib import masking
from eval_pipeline.lib.warehouse import load_sql, transaction
from eval_pipeline.resources import Warehouse


@dg.asset(
    deps=["raw_traces"],
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    group_name="privacy",
    pool="warehouse",
)
def masked_traces(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """The day's traces with personal data replaced by keyed pseudonyms: the only door to trace content."""
    day = context.partition_time_window.start.date()
    key = warehouse.key()
    with warehouse.get_connection() as con:
        rows = con.sql(load_sql("masked_traces_source"), params={"day": day}).to_arrow_table().to_pylist()
        masked, found = masking.mask_traces(rows, key)
        for r in masked:
            r["pii_found"] = [{"key": k, "value": v} for k, v in sorted(r["pii_found"].items())]
        with transaction(con):
            con.execute("DELETE FROM masked_traces WHERE trace_date = $day", {"day": day})
            if masked:
                con.register("masked_rows", pa.Table.from_pylist(masked))
                con.execute(load_sql("masked_traces_insert"))
                con.unregister("masked_rows")
    context.log.info("%s: masked %d traces, %d entities", day, len(masked), sum(found.values()))
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(masked),
        "entities_masked": dg.MetadataValue.json(dict(sorted(found.items()))),
        "traces_with_pii": sum(1 for r in masked if r["pii_found"]),
    })
