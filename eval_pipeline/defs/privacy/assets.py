import time

import dagster as dg
import polars as pl

from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib import ingest, masking, pii_names
from eval_pipeline.lib.warehouse import load_sql, transaction
from eval_pipeline.resources import Settings, Warehouse


@dg.asset(
    deps=["raw_traces", "spans"],
    partitions_def=daily_partitions,
    kinds={"duckdb", "polars"},
    group_name="privacy",
    pool="warehouse",
)
def masked_traces(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: Settings) -> dg.MaterializeResult:
    """The day's traces with personal data and secrets replaced by keyed pseudonyms and the rows the
    privacy policy excludes dropped: the only door to trace content."""
    day = context.partition_time_window.start.date()
    policy = settings.config().privacy
    names = pii_names.load(policy.name_detector, policy.spacy_model)
    key = warehouse.key()
    with warehouse.get_connection() as con:
        if ingest.is_expired(con, day):
            # Retention dropped the day's spans, which carry the opt-outs and tenants the row policy needs:
            # masking again could let excluded traces back in. What was masked stays.
            context.log.warning("%s: spans expired by retention; masked_traces kept as it is.", day)
            return dg.MaterializeResult(metadata={"kept_after_retention": True})
        source = con.sql(load_sql("privacy/masked_traces_source"), params={
            "day": day, "opt_out_paths": masking.json_paths(policy.opt_out_attributes),
            "tenant_paths": masking.json_paths(policy.tenant_attributes)}).pl()
        kept, dropped = masking.apply_row_policy(source, policy.drop_services, policy.drop_tenants)
        t0 = time.perf_counter()
        masked, found = masking.mask_frame(kept, key, names=names)
        seconds = time.perf_counter() - t0
        with transaction(con):
            con.execute("DELETE FROM masked_traces WHERE trace_date = $day", {"day": day})
            if masked.height:
                con.register("masked_rows", masked.to_arrow())
                con.execute(load_sql("privacy/masked_traces_insert"))
                con.unregister("masked_rows")
    text_mb = masking.text_bytes(kept) / 1e6
    context.log.info("%s: masked %d traces (%d entities), dropped %d by policy", day, masked.height,
                     sum(found.values()), sum(dropped.values()))
    return dg.MaterializeResult(metadata={
        "dagster/row_count": masked.height,
        "traces_read": source.height,
        "rows_dropped": dg.MetadataValue.json({r: dropped.get(r, 0) for r in ("opt_out", "service", "tenant")}),
        "entities_masked": dg.MetadataValue.json(dict(sorted(found.items()))),
        "traces_with_pii": masked.filter(pl.col("pii_found").list.len() > 0).height,
        "name_detector": policy.name_detector or "off",
        "text_mb": round(text_mb, 3),
        "masking_seconds": round(seconds, 3),
    })

