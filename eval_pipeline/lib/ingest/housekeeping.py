"""Keeping the Parquet cache and the span tables bounded: leftovers of killed runs are pruned, and retention
(``retention.span_days``) drops the spans and cached Parquet of old days while their traces, datasets, scores
and dashboards stay.

Both run while the ingest step holds the warehouse's write lock, so no other ingestion is writing the cache.
"""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from eval_pipeline.lib.ingest.files import cache_dir
from eval_pipeline.lib.warehouse import load_sql, transaction


def prune_cache(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Delete the cache's Parquet (and temporary) files no landing file refers to: what a run killed between
    parsing and registering left behind. Returns (files, bytes) deleted."""
    cache = cache_dir(con)
    # By name: every cache file lives in this one folder, whatever path the warehouse was opened by.
    referenced = {Path(p).name for (p,) in con.execute(load_sql("traces/landing_files_parquets")).fetchall()}
    files = size = 0
    for f in cache.iterdir():
        if f.name.endswith((".parquet", ".parquet.tmp")) and f.name not in referenced:
            try:
                n = f.stat().st_size
                f.unlink()
            except OSError:
                continue
            files += 1
            size += n
    return files, size


@dataclass
class RetentionResult:
    """What one retention pass dropped."""

    cutoff: dt.date | None = None  # spans of days before it are gone (None: retention is off)
    spans: int = 0
    files: int = 0
    days: list[dt.date] = field(default_factory=list)


def apply_retention(con: duckdb.DuckDBPyConnection, span_days: int, today: dt.date) -> RetentionResult:
    """Drop the spans of days before ``today - span_days`` and the cached Parquet of the landing files whose
    spans all started before then (``span_days`` 0: keep everything). ``raw_traces`` and what was built from it
    stay; the days are recorded in ``expired_days`` so they are never rebuilt from the little that is left."""
    if span_days <= 0:
        return RetentionResult()
    cutoff = today - dt.timedelta(days=span_days)
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    params = {"cutoff": cutoff}
    with transaction(con):
        days = [d for (d,) in con.execute(load_sql("traces/retention_days"), params).fetchall()]
        if days:
            con.executemany(load_sql("traces/expired_days_insert"), [[d, at] for d in days])
        spans = con.execute(load_sql("traces/retention_spans_delete"), params).fetchall()[0][0]
        files = con.execute(load_sql("traces/retention_files"), params).fetchall()
        for source_file, _ in files:
            con.execute(load_sql("traces/landed_spans_delete_file"), {"source_file": source_file})
            con.execute(load_sql("traces/landing_files_expire"), {"source_file": source_file, "at": at})
    for _, parquet in files:
        Path(parquet).unlink(missing_ok=True)
    return RetentionResult(cutoff=cutoff, spans=spans, files=len(files), days=days)


def is_expired(con: duckdb.DuckDBPyConnection, day: dt.date) -> bool:
    """Whether retention dropped the day's spans (its traces are then kept as they are)."""
    return bool(con.execute(load_sql("traces/expired_day"), {"day": day}).fetchall()[0][0])
