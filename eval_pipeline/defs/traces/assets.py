import time

import dagster as dg

from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib import ingest
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
    landing_dir = landing.dir()
    threshold = settings.config().quality.max_quarantine_share
    if not landing_dir.is_dir():
        context.log.warning("Landing zone %s does not exist; no traces to read.", landing_dir)
    t0 = time.monotonic()
    with warehouse.get_connection() as con:
        todo = ingest.changed_files(con, ingest.landing_files(landing_dir))
        context.log.info("%d new or changed file(s) in %s", len(todo), landing_dir)
        step = max(1, len(todo) // 10)

        def progress(i: int, n: int, r: ingest.FileResult) -> None:
            if i % step == 0 or i == n:
                context.log.info("read %d/%d files (last: %d spans, %d problems)", i, n, r.span_count,
                                 len(r.problems))

        stats = ingest.ingest_files(con, todo, progress=progress)
        result = ingest.build_day(con, day)
        quarantined, spans_read, share = ingest.quarantine_share(con, day)
        conventions = con.execute(
            "SELECT c, count(*) FROM (SELECT unnest(conventions) AS c FROM raw_traces WHERE trace_date = $day) "
            "GROUP BY c ORDER BY c", {"day": day}).fetchall()
        statuses = dict(con.execute(
            "SELECT status, count(*) FROM raw_traces WHERE trace_date = $day GROUP BY status",
            {"day": day}).fetchall())
    elapsed = time.monotonic() - t0
    context.log.info("%s: %d traces, %d spans, %d quarantined record(s) in %.1f s", day, result.traces,
                     result.spans, quarantined, elapsed)
    yield dg.MaterializeResult(
        asset_key="raw_traces",
        metadata={
            "dagster/row_count": result.traces,
            "traces": result.traces,
            "error_traces": statuses.get("error", 0),
            "files_read": stats.files_read,
            "files_by_format": dg.MetadataValue.json(stats.by_format),
            "quarantined": quarantined,
            "quarantined_this_run": stats.quarantined,
            "quarantine_share": share,
            "quarantine_share_threshold": threshold,
            "conventions": dg.MetadataValue.md(
                "| convention | traces |\n|---|---|\n" + "".join(f"| {c} | {n} |\n" for c, n in conventions)),
            "seconds": round(elapsed, 2),
        },
    )
    yield dg.MaterializeResult(
        asset_key="spans",
        metadata={"dagster/row_count": result.spans, "spans": result.spans,
                  "duplicate_spans_dropped": result.duplicate_spans, "spans_read_this_run": stats.spans},
    )
