"""A day of masked_traces: read the day's traces with what the row policy needs, drop, mask, write; and the
scan the blocking check runs over what was written. Figures only leave here as counts and shapes."""

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass

import duckdb
import polars as pl

from eval_pipeline.lib.config import Privacy
from eval_pipeline.lib.masking import engine
from eval_pipeline.lib.masking.names import NameDetector
from eval_pipeline.lib.masking.policy import REASONS, apply_row_policy, json_paths
from eval_pipeline.lib.warehouse import load_sql, transaction

# Survivors a failing check describes (by shape): enough to find the detector at fault.
_SAMPLES = 10


@dataclass(frozen=True)
class MaskedDay:
    """A day's masked rows and what the asset's metadata says about them."""

    masked: pl.DataFrame
    traces_read: int
    dropped: Counter  # traces the row policy dropped, by reason
    found: Counter  # entities masked, by type
    text_bytes: int  # trace text read by the masker
    seconds: float  # masking alone, without the read and the write

    @property
    def rows_dropped(self) -> dict[str, int]:
        return {r: self.dropped.get(r, 0) for r in REASONS}

    @property
    def traces_with_pii(self) -> int:
        return self.masked.filter(pl.col("pii_found").list.len() > 0).height


def mask_day(con: duckdb.DuckDBPyConnection, day: dt.date, privacy: Privacy, key: bytes,
             names: NameDetector | None = None) -> MaskedDay:
    """Read the day's traces (sql/privacy/masked_traces_source.sql, the only read of the raw tables after
    ingestion), drop what the row policy excludes, mask the rest."""
    source = con.sql(load_sql("privacy/masked_traces_source"), params={
        "day": day, "opt_out_paths": json_paths(privacy.opt_out_attributes),
        "tenant_paths": json_paths(privacy.tenant_attributes)}).pl()
    kept, dropped = apply_row_policy(source, privacy.drop_services, privacy.drop_tenants)
    t0 = time.perf_counter()
    masked, found = engine.mask_frame(kept, key, names=names, urls=privacy.urls)
    seconds = time.perf_counter() - t0
    return MaskedDay(masked, source.height, dropped, found, engine.text_bytes(kept), seconds)


def write_day(con: duckdb.DuckDBPyConnection, day: dt.date, masked: pl.DataFrame) -> None:
    """Replace the day's partition of masked_traces, all or nothing."""
    with transaction(con):
        con.execute(load_sql("privacy/masked_traces_delete_day"), {"day": day})
        if masked.height:
            con.register("masked_rows", masked.to_arrow())
            con.execute(load_sql("privacy/masked_traces_insert"))
            con.unregister("masked_rows")


@dataclass(frozen=True)
class DayScan:
    """What every detector, run again over a day of masked_traces, still finds."""

    rows_scanned: int
    found: pl.DataFrame  # trace_id, column, kind, value: the values are never shown

    @property
    def by_kind(self) -> dict[str, int]:
        return dict(sorted(self.found.group_by("kind").len().iter_rows()))

    @property
    def traces_affected(self) -> int:
        return self.found["trace_id"].n_unique() if self.found.height else 0

    @property
    def samples(self) -> list[dict[str, str]]:
        """The first survivors by shape only (:func:`engine.redacted`), never the value itself."""
        return [{"trace_id": t, "column": c, "kind": k, "shape": engine.redacted(v)}
                for t, c, k, v in self.found.head(_SAMPLES).iter_rows()]


def scan_day(con: duckdb.DuckDBPyConnection, day: dt.date, urls: str = "all") -> DayScan:
    """Run every detector (under ``privacy.urls``) again over the day's masked texts, and check the ids are
    pseudonyms."""
    df = con.sql(load_sql("privacy/masked_traces_scan_frame"), params={"day": day}).pl()
    return DayScan(df.height, engine.scan_frame(df, urls))
