"""The row policy of masked_traces: which traces are dropped before any of their text is read."""

from collections import Counter
from collections.abc import Sequence

import polars as pl

# Why a trace is dropped, in the order the reasons are tried: the first that matches counts.
REASONS = ("opt_out", "service", "tenant")


def json_paths(attributes: Sequence[str]) -> list[str]:
    """DuckDB JSON paths for attribute names with dots (``eval.opt_out`` -> ``$."eval.opt_out"``)."""
    # A path that cannot exist keeps the list typed when nothing is configured.
    return ['$."' + a.replace('"', '\\"') + '"' for a in attributes] or ['$."\x00"']


def apply_row_policy(df: pl.DataFrame, drop_services: Sequence[str] = (),
                     drop_tenants: Sequence[str] = ()) -> tuple[pl.DataFrame, Counter]:
    """Drop the traces the privacy policy excludes, before any text is read.

    ``df`` carries ``opted_out`` and ``tenant`` (from masked_traces_source.sql); the first matching
    reason counts: ``opt_out``, then ``service``, then ``tenant``. Returns the kept rows without
    those two columns and the dropped counts by reason.
    """
    reason = (pl.when(pl.col("opted_out").fill_null(False)).then(pl.lit("opt_out"))
              .when(pl.col("service_name").is_in(list(drop_services))).then(pl.lit("service"))
              .when(pl.col("tenant").is_in(list(drop_tenants))).then(pl.lit("tenant"))
              .otherwise(None))
    tagged = df.with_columns(reason.alias("_reason"))
    dropped = Counter(dict(tagged.filter(pl.col("_reason").is_not_null()).group_by("_reason").len().iter_rows()))
    kept = tagged.filter(pl.col("_reason").is_null()).drop("_reason", "opted_out", "tenant")
    return kept, dropped
