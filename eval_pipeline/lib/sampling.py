"""Select a day's eval dataset from masked traces, and read back what the selection produced (its
bookkeeping, its strata, its mix of cells) for the asset's metadata and the dataset checks.

The selection itself is SQL (``sql/dataset/eval_dataset_*.sql``); this module binds the configuration to
it, runs the statements in order, merges the day's sparse cells into strata between two of them (the rule
is ``lib/strata.py``) and guards the one piece that cannot be a bound parameter: the configured
``filters.where`` predicate. Everything here reads ``masked_traces`` only.
"""

import datetime as dt
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import duckdb
import pyarrow as pa

from eval_pipeline.lib import drift
from eval_pipeline.lib import strata as merge_rule
from eval_pipeline.lib.config import DatasetChecks, Filters, Sampling
from eval_pipeline.lib.metadata import md_table
from eval_pipeline.lib.warehouse import load_sql

_PREDICATE_MARKER = "/* predicate */ TRUE"
_DAY_TABLES = ("eval_dataset", "eval_dataset_strata", "eval_dataset_cells", "eval_dataset_days")
_CELL_STRATA = pa.schema([(c, pa.string()) for c in (*merge_rule.DIMENSIONS, "stratum", "stratum_tool_signature",
                                                      "stratum_latency_tier", "stratum_model")]
                         + [("traces", pa.int64()), ("demand_factor", pa.float64())])


@dataclass(frozen=True)
class DaySelection:
    """What a day's selection produced (one row of ``eval_dataset_days``)."""

    traces: int
    filtered_out: int
    traces_without_request: int
    eligible_traces: int
    unique_requests: int
    strata: int
    records: int
    expected_records: float
    expected_error_share: float | None
    weight_sum: float
    weight_sum_se: float
    latency_thresholds: list[float]
    dataset_version: str | None


def validate_sampling(s: Sampling) -> None:
    """Raise ``ValueError`` with a sentence naming the setting when the sampling config cannot work."""
    if s.target_size < 0 or s.min_per_stratum < 0:
        msg = "sampling.target_size and sampling.min_per_stratum must be zero or more."
        raise ValueError(msg)
    for key in ("error_oversample", "rare_path_oversample"):
        if getattr(s, key) <= 0:
            msg = f"sampling.{key} must be above 0 (1 means no oversampling), got {getattr(s, key)}."
            raise ValueError(msg)
    if s.merge_strata_below < 0:
        msg = f"sampling.merge_strata_below must be zero (no merging) or more records, got {s.merge_strata_below}."
        raise ValueError(msg)
    if s.max_per_session < 0 or s.max_per_user < 0:
        msg = "sampling.max_per_session and sampling.max_per_user must be zero (no cap) or more."
        raise ValueError(msg)
    thresholds = s.latency_slo_ms or s.latency_quantiles
    name = "latency_slo_ms" if s.latency_slo_ms else "latency_quantiles"
    if not thresholds:
        msg = "sampling.latency_quantiles is empty; give at least one quantile, e.g. [0.5, 0.9, 0.99]."
        raise ValueError(msg)
    if any(not isinstance(t, int | float) for t in thresholds) or list(thresholds) != sorted(set(thresholds)):
        msg = f"sampling.{name} must be increasing numbers without repeats, got {list(thresholds)}."
        raise ValueError(msg)
    if not s.latency_slo_ms and not all(0 < q < 1 for q in s.latency_quantiles):
        msg = f"sampling.latency_quantiles must lie strictly between 0 and 1, got {list(s.latency_quantiles)}."
        raise ValueError(msg)
    for key in ("start_date", "end_date"):
        value = getattr(s.filters, key)
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                msg = f"sampling.filters.{key} must be a date like 2026-11-20, got {value!r}."
                raise ValueError(msg) from None


def tier_names(s: Sampling) -> list[str]:
    """One name per latency threshold: ``p50`` for a quantile, ``800ms`` for an SLO threshold."""
    if s.latency_slo_ms:
        return [f"{t:g}ms" for t in s.latency_slo_ms]
    return [f"p{q * 100:g}" for q in s.latency_quantiles]


def tier_labels(s: Sampling) -> list[str]:
    """One label per latency tier, between consecutive thresholds: '<=p50', 'p50-p90', 'p90-p99', '>p99'."""
    names = tier_names(s)
    return [f"<={names[0]}", *(f"{a}-{b}" for a, b in zip(names, names[1:], strict=False)), f">{names[-1]}"]


def source_view_sql(predicate: str) -> str:
    """The ``eval_source`` view: ``masked_traces`` narrowed by ``predicate`` (empty: all rows).

    The predicate must parse as one boolean expression over ``masked_traces`` columns: no subquery, no
    second statement, no other table, so a config can narrow the slice but never read ``raw_traces``.
    """
    template = load_sql("dataset/eval_dataset_source")
    predicate = predicate.strip()
    if not predicate:
        return template
    ddl = template.replace(_PREDICATE_MARKER, predicate)
    query = ddl.split("eval_source AS", 1)[1].strip().rstrip(";")
    _check_predicate(predicate, query)
    return ddl


def _check_predicate(predicate: str, query: str) -> None:
    problem = f"sampling.filters.where ({predicate!r}) must be one SQL condition over masked_traces columns"
    with duckdb.connect() as con:
        parsed = json.loads(con.execute(load_sql("dataset/eval_dataset_predicate_parse"), {"q": query}).fetchall()[0][0])
    if parsed.get("error"):
        msg = f"{problem}; DuckDB cannot parse it: {parsed.get('error_message')}. Fix the condition."
        raise ValueError(msg)
    statements = parsed["statements"]
    node = statements[0]["node"] if len(statements) == 1 else {}
    from_table = node.get("from_table") or {}
    if (node.get("type") != "SELECT_NODE" or from_table.get("type") != "BASE_TABLE"
            or from_table.get("table_name") != "masked_traces" or _mentions(node.get("where_clause"), "SUBQUERY")
            or node.get("group_expressions") or node.get("having") or node.get("modifiers")):
        msg = f"{problem}, without subqueries, other tables or extra clauses. Rewrite it as a plain condition."
        raise ValueError(msg)


def _mentions(tree: object, kind: str) -> bool:
    if isinstance(tree, dict):
        return tree.get("class") == kind or tree.get("type") == kind or any(
            _mentions(v, kind) for v in tree.values())
    if isinstance(tree, list):
        return any(_mentions(v, kind) for v in tree)
    return False


def _filter_params(f: Filters) -> dict:
    return {"services": list(f.services), "models": list(f.models),
            "start_date": dt.date.fromisoformat(f.start_date) if f.start_date else None,
            "end_date": dt.date.fromisoformat(f.end_date) if f.end_date else None}


def select_day(con: duckdb.DuckDBPyConnection, day: dt.date, s: Sampling) -> DaySelection:
    """Replace ``day``'s rows of ``eval_dataset``, ``eval_dataset_strata`` and ``eval_dataset_days``.

    The caller owns the transaction; the temp tables ``eval_eligible`` and ``eval_population`` stay on
    the connection for inspection until it closes.
    """
    validate_sampling(s)
    con.execute(source_view_sql(s.filters.where))
    for table in _DAY_TABLES:
        con.execute(load_sql(f"dataset/{table}_delete_day"), {"day": day})
    con.execute(load_sql("dataset/eval_dataset_eligible"), {"day": day, "seed": s.seed, **_filter_params(s.filters)})
    if s.latency_slo_ms:
        thresholds = [float(t) for t in s.latency_slo_ms]
    else:
        thresholds = con.execute(load_sql("dataset/eval_dataset_thresholds"),
                                 {"latency_quantiles": [float(q) for q in s.latency_quantiles]}).fetchall()[0][0]
        # A day without latencies (or without eligible traces) still needs one threshold per tier name.
        thresholds = [math.nan if t is None else float(t) for t in thresholds or [None] * len(s.latency_quantiles)]
    tiers = {"latency_thresholds": thresholds, "tier_labels": tier_labels(s)}
    cells = con.execute(load_sql("dataset/eval_dataset_cell_counts"), tiers).fetchall()
    con.register("cell_strata", merge_cells(cells, s))
    try:
        con.execute(load_sql("dataset/eval_dataset_cells_temp"))
    finally:
        con.unregister("cell_strata")
    con.execute(load_sql("dataset/eval_dataset_population"), {
        "target_size": s.target_size, "min_per_stratum": s.min_per_stratum, **tiers,
        "max_per_session": s.max_per_session, "max_per_user": s.max_per_user,
    })
    con.execute(load_sql("dataset/eval_dataset_insert"), {"day": day})
    con.execute(load_sql("dataset/eval_dataset_strata_insert"), {"day": day})
    con.execute(load_sql("dataset/eval_dataset_cells_insert"), {"day": day})
    con.execute(load_sql("dataset/eval_dataset_days_insert"),
                {"day": day, "target_size": s.target_size, "latency_thresholds": thresholds})
    con.execute(load_sql("dataset/eval_dataset_version"), {"day": day})
    con.execute(load_sql("dataset/eval_dataset_days_version"), {"day": day})
    return day_selection(con, day)


def merge_cells(cells: Iterable[tuple], s: Sampling) -> pa.Table:
    """The day's cells (tool signature, status, latency tier, model, traces) with their strata and demand
    factors. A cell's size is its proportional share of ``target_size`` (errors counted ``error_oversample``
    times); sparse cells merge by :func:`lib.strata.merge` below ``merge_strata_below`` records. A cell's
    demand factor is ``error_oversample`` for errors and ``rare_path_oversample`` in a stratum of rare tool
    paths (the larger of the two for both); a stratum's demand is the sum of its traces' factors."""
    counts = {tuple(c[:4]): int(c[4]) for c in cells}
    factor = {c: s.error_oversample if c[1] == "error" else 1.0 for c in counts}
    total = sum(n * factor[c] for c, n in counts.items())
    sizes = {c: s.target_size * n * factor[c] / total for c, n in counts.items()} if total else {}
    rows = []
    for cell, key in merge_rule.merge(sizes, s.merge_strata_below).items():
        rows.append(dict(zip(merge_rule.DIMENSIONS, cell, strict=True)) | {
            "traces": counts[cell], "stratum": merge_rule.name(key), "stratum_tool_signature": key[0],
            "stratum_latency_tier": key[2], "stratum_model": key[3],
            "demand_factor": max(factor[cell], s.rare_path_oversample if merge_rule.is_rare(key) else 0.0)})
    return pa.Table.from_pylist(rows, schema=_CELL_STRATA)


def day_selection(con: duckdb.DuckDBPyConnection, day: dt.date) -> DaySelection:
    """The stored bookkeeping of ``day``'s selection; raises when the day was never selected."""
    cur = con.execute(load_sql("dataset/eval_dataset_days_row"), {"day": day})
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if not rows:
        msg = f"No eval dataset was selected for {day}; materialize eval_dataset for that partition first."
        raise LookupError(msg)
    row = dict(zip(names, rows[0], strict=True))
    row["latency_thresholds"] = list(row["latency_thresholds"] or [])
    for key in ("unique_requests", "strata", "records"):
        row[key] = row[key] or 0
    return DaySelection(**row)


class Stratum(NamedTuple):
    """One stratum of a day's selection (a row of ``eval_dataset_strata``)."""

    stratum: str
    traces: int  # eligible traces in it
    records: int  # records drawn
    expected_records: float
    weight: float
    cells: int = 1  # tool signature x status x latency tier x model cells merged into it


def strata(con: duckdb.DuckDBPyConnection, day: dt.date) -> list[Stratum]:
    """``day``'s strata, the most traffic first."""
    return [Stratum(*r) for r in con.execute(load_sql("dataset/eval_dataset_strata_day"), {"day": day}).fetchall()]


def strata_table(rows: list[Stratum], limit: int = 25) -> str:
    """The strata as a markdown table for the asset's metadata: the ``limit`` largest, then a count of the rest.
    ``cells`` counts the tool signature x status x latency tier x model cells merged into a stratum."""
    return md_table(["stratum", "traces", "records", "expected", "weight", "cells"],
                    [(r.stratum, r.traces, r.records, round(r.expected_records, 1), round(r.weight, 1), r.cells)
                     for r in rows],
                    limit=limit, rest="smaller strata in table eval_dataset_strata")


def error_records(con: duckdb.DuckDBPyConnection, day: dt.date) -> int:
    """How many of ``day``'s records come from error traces."""
    return con.execute(load_sql("dataset/eval_dataset_error_records"), {"day": day}).fetchall()[0][0]


def cell_mix(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> dict[tuple, float]:
    """Eligible traces per cell (tool signature, status, latency tier, model) over the days ``start`` ..
    ``end``, from the selections' bookkeeping: the population's mix, not the sample's."""
    rows = con.execute(load_sql("dataset/eval_dataset_cell_mix"), {"start": start, "end": end}).fetchall()
    return {tuple(r[:4]): float(r[4]) for r in rows}


def stratum_shift(con: duckdb.DuckDBPyConnection, day: dt.date, c: DatasetChecks) -> drift.MixShift | None:
    """``day``'s mix of eligible traffic against the ``drift_days`` before it, on populated bins
    (:func:`drift.mix_shift`); None when no selection of those days is stored."""
    baseline = cell_mix(con, day - dt.timedelta(days=c.drift_days), day - dt.timedelta(days=1))
    if not baseline:
        return None
    return drift.mix_shift(baseline, cell_mix(con, day, day), min_count=c.min_bin_traces)
