"""The name tier over a day's eval records: names, places and organisations in the request, response, retrieved
documents, tool calls' arguments and results and the error message of the records selected into eval_dataset, masked
before any judge, export or report reads them (dev_eval_dataset and the release gate read these rows). The
detectors already ran over the same texts in masked_traces; the name tier is affordable here because it reads
hundreds of records, not the whole day. A tool call's JSON is read value by value (``json_values``)."""

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass

import duckdb
import polars as pl

from eval_pipeline.lib.masking import json_values
from eval_pipeline.lib.masking.names import NameDetector, NameTier, mask_names
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
    out, entities = mask_records(rows, key, tier.detector)
    seconds = time.perf_counter() - t0
    con.register("named_rows", out.to_arrow())
    try:
        con.execute(load_sql("dataset/eval_dataset_texts_update"), {"day": day})
    finally:
        con.unregister("named_rows")
    con.execute(load_sql("dataset/eval_dataset_name_tier"), {"day": day, "tier": tier.status})
    found = Counter(dict(entities.group_by("kind").len().iter_rows())) if entities.height else Counter()
    return NamedDay(rows.height, found, seconds, tier.status)


def mask_records(rows: pl.DataFrame, key: bytes, names: NameDetector) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Eval records (``trace_id`` and the texts of sql/dataset/eval_dataset_texts.sql; a missing column is
    null) with names masked, and one row per name masked (:func:`mask_names`). Each record's texts form one
    group: a name found in its request is masked in its answer, documents, tool calls and error too."""
    rows = rows.select(rows[c] if c in rows.columns else pl.lit(None, t).alias(c) for c, t in _NAMED_SCHEMA.items())
    texts = _Texts()
    records = [_take(texts, i, r) for i, r in enumerate(rows.iter_rows(named=True))]
    masked, entities = mask_names(pl.Series("text", texts.values, dtype=pl.String), key, names, groups=texts.groups)
    out = pl.DataFrame([_put(masked.to_list(), r) for r in records], schema=_NAMED_SCHEMA, orient="row")
    return out, entities


_TOOL_CALL = pl.Struct({"name": pl.String, "arguments": pl.String, "result": pl.String, "status": pl.String})
_NAMED_SCHEMA = {"trace_id": pl.String, "request": pl.String, "response": pl.String,
                 "retrieved_context": pl.List(pl.String), "tool_calls": pl.List(_TOOL_CALL),
                 "error_message": pl.String}
# The texts of a record the name tier reads, besides its documents and tool calls. Not error_type: an identifier
# (an exception class such as ConnectionError, which spaCy reads as an organisation).
_SCALARS = ("request", "response", "error_message")
_CALL_TEXTS = ("arguments", "result")


class _Texts:
    """Every text the name tier reads, one column, each with its record (``groups``)."""

    def __init__(self) -> None:
        self.values: list[str | None] = []
        self.groups: list[int] = []

    def add(self, text: str | None, group: int) -> int:
        self.values.append(text)
        self.groups.append(group)
        return len(self.values) - 1

    def add_piece(self, text: str | None, group: int) -> "_Piece":
        """A tool call's text: each string value when it is JSON, else the text whole."""
        values = json_values.string_values(text)
        if values is None:
            return _Piece((self.add(text, group),))
        return _Piece(tuple(self.add(v, group) for v in values.values), values)


@dataclass(frozen=True)
class _Piece:
    """Where a tool call's text stands in the column: its JSON string values (``json``), or the whole text."""

    at: tuple[int, ...]
    json: json_values.Values | None = None

    def put(self, masked: list[str | None]) -> str | None:
        if self.json is None:
            return masked[self.at[0]]
        return self.json.replaced([masked[i] or "" for i in self.at])


def _take(texts: _Texts, group: int, row: dict) -> dict:
    """A record's row with each text replaced by where it stands in ``texts``."""
    out = {"trace_id": row["trace_id"], **{c: texts.add(row[c], group) for c in _SCALARS}}
    docs = row["retrieved_context"]
    out["retrieved_context"] = None if docs is None else [texts.add(d, group) for d in docs]
    calls = row["tool_calls"]
    out["tool_calls"] = None if calls is None else [
        None if c is None else
        {"name": c["name"], "status": c["status"], **{f: texts.add_piece(c[f], group) for f in _CALL_TEXTS}}
        for c in calls]
    return out


def _put(masked: list[str | None], taken: dict) -> dict:
    """The row ``_take`` made with the masked texts put back."""
    out = {"trace_id": taken["trace_id"], **{c: masked[taken[c]] for c in _SCALARS}}
    docs = taken["retrieved_context"]
    out["retrieved_context"] = None if docs is None else [masked[i] for i in docs]
    calls = taken["tool_calls"]
    out["tool_calls"] = None if calls is None else [
        None if c is None else {"name": c["name"], "status": c["status"], **{f: c[f].put(masked) for f in _CALL_TEXTS}}
        for c in calls]
    return out


def name_tier_of(con: duckdb.DuckDBPyConnection, day: dt.date) -> str | None:
    """The name tier recorded for ``day``'s eval records; None when the day has no record of one."""
    rows = con.execute(load_sql("dataset/eval_dataset_name_tier_day"), {"day": day}).fetchall()
    return rows[0][0] if rows else None


def names_checked(status: str | None) -> bool:
    """Whether a recorded tier status means names were masked (or deliberately switched off)."""
    return status is not None and (status.startswith("presidio:") or status == "off")
