"""The day rollup: a day's ``spans`` and ``raw_traces`` rebuilt with SQL from the Parquet cache, and the day's
figures (conventions seen, statuses, quarantine share) that the ``raw_traces`` asset shows.

A day is rebuilt from every landed span of the traces whose root started that day (found through
``landed_spans``, whatever file or day they arrived in), so a trace is on one day only, spans arriving late or in
other files are joined and duplicates are stored once. :func:`ingest_day` is the whole step: prune what killed
runs left, read what changed in the landing zone, mark the other days whose traces the new files change, roll
the day up (unless retention expired it), apply retention, count.
"""

import dataclasses
import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from eval_pipeline.lib import fingerprints
from eval_pipeline.lib.config import Config
from eval_pipeline.lib.ingest.files import FileResult, changed_files, index_unindexed, ingest_files
from eval_pipeline.lib.ingest.housekeeping import RetentionResult, apply_retention, is_expired, prune_cache
from eval_pipeline.lib.ingest.landing import clear_stale, landing_files, mark_stale
from eval_pipeline.lib.warehouse import load_sql, transaction

_LOG = logging.getLogger(__name__)


@dataclass
class DayResult:
    traces: int
    spans: int
    duplicate_spans: int


def build_day(con: duckdb.DuckDBPyConnection, day: dt.date) -> DayResult:
    """Replace exactly this day's rows of ``spans`` and ``raw_traces`` from the landed spans.

    The day's traces are those whose root started on it; each is built from every landed span of the trace
    (``landed_spans``), whatever file or day the span arrived in, so a trace is stored on one day only.
    """
    # The day's spans carry long JSON texts: ZSTD stores them in a third of the space the automatic
    # choice (FSST) takes, in half the time (bench/ingest.py). The setting must hold through COMMIT,
    # where DuckDB compresses what the transaction wrote.
    con.execute("PRAGMA force_compression = 'zstd'")
    try:
        with transaction(con):
            con.execute(load_sql("traces/spans_delete_day"), {"day": day})
            con.execute(load_sql("traces/raw_traces_delete_day"), {"day": day})
            con.execute(load_sql("traces/day_candidates"), {"day": day})
            con.execute(load_sql("traces/day_spans"), {"day": day})
            files = [f for (f,) in con.execute(load_sql("traces/day_files")).fetchall()]
            if files:
                params = {"day": day, "files": files}
                con.execute(load_sql("traces/spans_insert"), params)
                con.execute(load_sql("traces/raw_traces_insert"), params)
    finally:
        con.execute("PRAGMA force_compression = 'auto'")
    landed, n_spans, n_traces = con.execute(load_sql("traces/day_counts"), {"day": day}).fetchall()[0]
    con.execute(load_sql("traces/day_drop_temp"))
    return DayResult(traces=n_traces, spans=n_spans, duplicate_spans=landed - n_spans)


def quarantine_share(con: duckdb.DuckDBPyConnection, day: dt.date) -> tuple[int, int, float]:
    """(quarantined records, spans read, share) over the files that carry spans of this day, plus
    files that yielded no span at all (they cannot be dated, so every day counts them)."""
    q, s = con.execute(load_sql("traces/quarantine_share"), {"day": day}).fetchall()[0]
    q, s = int(q or 0), int(s or 0)
    return q, s, (q / (q + s) if q + s else 0.0)


@dataclass
class DayIngest:
    """What one ingestion of a day read, built and found: every figure of the ``raw_traces`` and ``spans``
    metadata."""

    day: dt.date
    # this run: the landing files read (new or changed), by format, their spans and problems
    files_read: int
    files_by_format: dict[str, int]
    spans_read_this_run: int
    quarantined_this_run: int
    # the day as rebuilt (or kept: retention dropped its spans)
    traces: int
    spans: int
    duplicate_spans: int
    error_traces: int
    conventions: list[tuple[str, int]]  # (convention, traces carrying it), by name
    # the day's quarantine figures (quarantine_share)
    quarantined: int
    spans_read: int
    quarantine_share: float
    seconds: float
    rebuilt: bool = True
    # other days whose traces the files read add spans to: marked for the landing sensor to run again
    stale_days: list[dt.date] = field(default_factory=list)
    cache_files_pruned: int = 0  # leftovers of killed runs deleted from the Parquet cache
    retention: RetentionResult = field(default_factory=RetentionResult)
    # the run that built the day's rows from the same inputs, when this run kept them (None: built now)
    unchanged_since: str | None = None


def rollup_day(con: duckdb.DuckDBPyConnection, day: dt.date, *, run_id: str = "",
               force: bool = False) -> tuple[DayResult, str | None]:
    """Rebuild the day with :func:`build_day`, unless the landing files behind its traces are those it was last
    built from (:mod:`eval_pipeline.lib.fingerprints`): then its rows are kept. Returns the day's figures and
    the run that built them when kept (None: built now)."""
    fp = fingerprints.raw_traces_fingerprint(con, day)
    built = fingerprints.unchanged(con, "raw_traces", day, fp, force=force)
    if built is not None:
        return DayResult(**json.loads(built.figures)), built.run_id
    rollup = build_day(con, day)
    fingerprints.record(con, "raw_traces", day, fp, run_id, json.dumps(dataclasses.asdict(rollup)))
    return rollup, None


def ingest_day(con: duckdb.DuckDBPyConnection, landing_dir: Path, day: dt.date, *,
               log: logging.Logger | None = None, workers: int | None = None, config: Config | None = None,
               today: dt.date | None = None, run_id: str = "", force: bool = False) -> DayIngest:
    """Read the new or changed files of the landing zone into the cache, rebuild ``day`` (unless nothing it is
    built from changed since run ``unchanged_since``, or ``force``), mark the other days the new files change,
    apply retention, and count."""
    log = log or _LOG
    config = config or Config()
    t0 = time.monotonic()
    started_ns = time.time_ns()
    pruned, pruned_bytes = prune_cache(con)
    if pruned:
        log.info("pruned %d file(s), %.1f MB, left in the Parquet cache by killed runs", pruned, pruned_bytes / 1e6)
    index_unindexed(con)
    if not landing_dir.is_dir():
        log.warning("Landing zone %s does not exist; no traces to read.", landing_dir)
    todo = changed_files(con, landing_files(landing_dir))
    log.info("%d new or changed file(s) in %s", len(todo), landing_dir)
    step = max(1, len(todo) // 10)

    def progress(i: int, n: int, r: FileResult) -> None:
        if i % step == 0 or i == n:
            log.info("read %d/%d files (last: %d spans, %d problems)", i, n, r.span_count, len(r.problems))

    stats = ingest_files(con, todo, workers=workers, progress=progress, max_bytes=config.ingest.max_file_mb << 20)
    stale = []
    if stats.files:
        stale = [d for (d,) in con.execute(load_sql("traces/stale_days"), {"day": day, "files": stats.files})
                 .fetchall()]
        if stale:
            log.info("the files read add spans to traces of %s: marked for a rebuild", ", ".join(map(str, stale)))
            try:
                mark_stale(landing_dir, stale)
            except OSError as exc:
                log.warning("Could not mark %s for a rebuild in %s (%s); run those days again to include the late "
                            "spans.", ", ".join(map(str, stale)), landing_dir, exc)
    rebuilt = not is_expired(con, day)
    unchanged_since = None
    if rebuilt:
        rollup, unchanged_since = rollup_day(con, day, run_id=run_id, force=force)
        if unchanged_since:
            log.info("%s: the landing files behind the day's traces are unchanged since run %s; its traces and "
                     "spans are kept as built then", day, unchanged_since)
        clear_stale(landing_dir, day, started_ns)
    else:
        log.warning("%s: retention (retention.span_days) dropped this day's spans; its traces are kept as they "
                    "are, not rebuilt.", day)
        rollup = DayResult(traces=con.execute(load_sql("traces/raw_traces_count"), {"day": day}).fetchall()[0][0],
                           spans=0, duplicate_spans=0)
    retention = apply_retention(con, config.retention.span_days, today or dt.datetime.now(dt.UTC).date())
    if retention.spans or retention.files:
        log.info("retention: dropped %d span(s) of days before %s and the cache of %d file(s)", retention.spans,
                 retention.cutoff, retention.files)
    quarantined, spans_read, share = quarantine_share(con, day)
    conventions = con.execute(load_sql("traces/raw_traces_conventions"), {"day": day}).fetchall()
    statuses = dict(con.execute(load_sql("traces/raw_traces_statuses"), {"day": day}).fetchall())
    seconds = time.monotonic() - t0
    log.info("%s: %d traces, %d spans, %d quarantined record(s) in %.1f s", day, rollup.traces, rollup.spans,
             quarantined, seconds)
    return DayIngest(
        day=day, files_read=stats.files_read, files_by_format=stats.by_format, spans_read_this_run=stats.spans,
        quarantined_this_run=stats.quarantined, traces=rollup.traces, spans=rollup.spans,
        duplicate_spans=rollup.duplicate_spans, error_traces=statuses.get("error", 0), conventions=conventions,
        quarantined=quarantined, spans_read=spans_read, quarantine_share=share, seconds=seconds, rebuilt=rebuilt,
        stale_days=stale, cache_files_pruned=pruned, retention=retention, unchanged_since=unchanged_since)
