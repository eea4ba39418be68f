import dagster as dg

from eval_pipeline.defs import rebuild
from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib import fingerprints, ingest, masking
from eval_pipeline.lib.metadata import rounded
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
    key = warehouse.key()
    with warehouse.get_connection() as con:
        if ingest.is_expired(con, day):
            # Retention dropped the day's spans, which carry the opt-outs and tenants the row policy needs:
            # masking again could let excluded traces back in. What was masked stays.
            context.log.warning("%s: spans expired by retention; masked_traces kept as it is.", day)
            return dg.MaterializeResult(metadata={"kept_after_retention": True})
        fp = fingerprints.derived_fingerprint(con, "masked_traces", "raw_traces", day, policy,
                                              fingerprints.digest(key.hex()))
        if (kept := rebuild.kept(context, con, "masked_traces", day, fp)) is not None:
            return kept
        result = masking.mask_day(con, day, policy, key)
        masking.write_day(con, day, result.masked)
        context.log.info("%s: masked %d traces (%d entities), dropped %d by policy", day, result.masked.height,
                         sum(result.found.values()), sum(result.dropped.values()))
        return rebuild.built(context, con, "masked_traces", day, fp, {
            "dagster/row_count": result.masked.height,
            "traces_read": result.traces_read,
            "rows_dropped": dg.MetadataValue.json(result.rows_dropped),
            "entities_masked": dg.MetadataValue.json(dict(sorted(result.found.items()))),
            "traces_with_pii": result.traces_with_pii,
            # The name tier reads the day's eval records (eval_dataset), not every trace: unchecked here.
            "names": "unchecked here; masked in eval_dataset records",
            "urls": policy.urls,
            **rounded({"text_mb": result.text_bytes / 1e6, "masking_seconds": result.seconds}, 3),
        })
