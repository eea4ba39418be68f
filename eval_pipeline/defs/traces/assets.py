import dagster as dg

from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib import fingerprints, ingest
from eval_pipeline.lib.metadata import md_table
from eval_pipeline.resources import LandingZone, Settings, Warehouse


@dg.multi_asset(
    specs=[
        dg.AssetSpec("raw_traces", description="One row per trace whose root started on the day, as read "
                     "from the landing zone (unmasked: only the masking step reads it).",
                     kinds={"duckdb"}, group_name="traces"),
        dg.AssetSpec("spans", description="One row per span of those traces, duplicates removed.",
                     kinds={"duckdb"}, group_name="traces"),
    ],
    partitions_def=daily_partitions,
    pool="warehouse",
)
def raw_traces(context: dg.AssetExecutionContext, warehouse: Warehouse, landing: LandingZone,
               settings: Settings):
    """Read new or changed landing-zone files, then rebuild the day's traces and spans."""
    day = context.partition_time_window.start.date()
    config = settings.config()
    with warehouse.get_connection() as con:
        r = ingest.ingest_day(con, landing.dir(), day, log=context.log, config=config, run_id=context.run.run_id,
                              force=fingerprints.force_rebuild(context.run.tags))
    yield dg.MaterializeResult(
        asset_key="raw_traces",
        metadata={
            "dagster/row_count": r.traces,
            "traces": r.traces,
            "error_traces": r.error_traces,
            "files_read": r.files_read,
            "files_by_format": dg.MetadataValue.json(r.files_by_format),
            "quarantined": r.quarantined,
            "quarantined_this_run": r.quarantined_this_run,
            "quarantine_share": r.quarantine_share,
            "quarantine_share_threshold": config.quality.max_quarantine_share,
            "conventions": dg.MetadataValue.md(md_table(["convention", "traces"], r.conventions)),
            "rebuilt": r.rebuilt,
            # the run that built the day's rows, when nothing they are built from changed since ("": this run)
            "unchanged_since_run": r.unchanged_since or "",
            "days_marked_for_rebuild": dg.MetadataValue.json([d.isoformat() for d in r.stale_days]),
            "cache_files_pruned": r.cache_files_pruned,
            "retention_spans_dropped": r.retention.spans,
            "seconds": round(r.seconds, 2),
        },
    )
    yield dg.MaterializeResult(
        asset_key="spans",
        metadata={"dagster/row_count": r.spans, "spans": r.spans,
                  "duplicate_spans_dropped": r.duplicate_spans, "spans_read_this_run": r.spans_read_this_run},
    )
