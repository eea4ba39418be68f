"""The name tier over a day's eval records: names, places and organisations in the request, response and
retrieved documents of the records selected into eval_dataset, masked before any judge, export or report reads
them (dev_eval_dataset is built from these rows). The detectors already ran over the same texts in
masked_traces; the name tier is affordable here because it reads hundreds of records, not the whole day."""

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass

import duckdb
import polars as pl

from eval_pipeline.lib.masking.names import NameTier, mask_names
from eval_pipeline.lib.warehouse import load_sql


@dataclass(frozen=True)
class NamedDay:
    """What the name tier did to a day's eval records."""

    records: int
    found: Counter  # names masked, by type
    seconds: float
    status: str  # the tier: presidio:<model>, off, unavailable: <why>

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def mask_dataset_names(con: duckdb.DuckDBPyConnection, day: dt.date, tier: NameTier, key: bytes) -> NamedDay:
    """Mask names in ``day``'s eval_dataset rows in place and record which tier did it (the caller owns the
    transaction). An unavailable tier changes nothing and is recorded as such, so checks say "unchecked"."""
    if tier.detector is None:
        con.execute(load_sql("dataset/eval_dataset_name_tier"), {"day": day, "tier": tier.status})
        return NamedDay(0, Counter(), 0.0, tier.status)
    rows = con.sql(load_sql("dataset/eval_dataset_texts"), params={"day": day}).pl()
    t0 = time.perf_counter()
    lists = rows["retrieved_context"]
    docs = lists.explode()
    # One column: requests, responses, then every retrieved document; rebuilt per record afterwards.
    texts = pl.concat([rows["request"].cast(pl.String), rows["response"].cast(pl.String), docs.cast(pl.String)])
    n = rows.height
    # Each text's record: a name found in a record's request is masked in its answer and documents too.
    record = [*range(n), *range(n), *_owners(lists)]
    masked, entities = mask_names(texts.alias("text"), key, tier.detector, groups=record)
    out = rows.with_columns(
        masked.slice(0, n).alias("request"), masked.slice(n, n).alias("response"),
        _regroup(lists, masked.slice(2 * n, len(docs))).alias("retrieved_context"))
    seconds = time.perf_counter() - t0
    con.register("named_rows", out.to_arrow())
    try:
        con.execute(load_sql("dataset/eval_dataset_texts_update"), {"day": day})
    finally:
        con.unregister("named_rows")
    con.execute(load_sql("dataset/eval_dataset_name_tier"), {"day": day, "tier": tier.status})
    found = Counter(dict(entities.group_by("kind").len().iter_rows())) if entities.height else Counter()
    return NamedDay(n, found, seconds, tier.status)


def _owners(lists: pl.Series) -> list[int]:
    """The row of each element of ``lists`` after ``explode`` (a null or empty list explodes to one null)."""
    return [row for row, length in enumerate(lists.list.len().fill_null(0).to_list()) for _ in range(max(length, 1))]


def _regroup(lists: pl.Series, values: pl.Series) -> pl.Series:
    """``values`` (one per element of ``lists`` after ``explode``) put back into lists of the same shape."""
    lengths = lists.list.len().fill_null(0).to_list()
    flat = values.to_list()
    out, i = [], 0
    for length, original in zip(lengths, lists.to_list(), strict=True):
        if original is None:
            out.append(None)
            i += 1  # explode turns a null list into one null element
            continue
        if length == 0:
            out.append([])
            i += 1  # and an empty list into one null element
            continue
        out.append(flat[i:i + length])
        i += length
    return pl.Series(lists.name, out, dtype=pl.List(pl.String))


def name_tier_of(con: duckdb.DuckDBPyConnection, day: dt.date) -> str | None:
    """The name tier recorded for ``day``'s eval records; None when the day has no record of one."""
    rows = con.execute(load_sql("dataset/eval_dataset_name_tier_day"), {"day": day}).fetchall()
    return rows[0][0] if rows else None


def names_checked(status: str | None) -> bool:
    """Whether a recorded tier status means names were masked (or deliberately switched off)."""
    return status is not None and (status.startswith("presidio:") or status == "off")
