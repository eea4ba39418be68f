"""The dev-time eval dataset of a window of days: the daily eval datasets of the ``dev_eval.window_days``
days ending on a day, united, with a request seen on several days collapsed into one record that carries
every day's weight, versioned by a content hash (``sql/dataset/dev_eval_dataset_*.sql``)."""

import datetime as dt
from dataclasses import dataclass

import duckdb

from eval_pipeline.lib.warehouse import load_sql


@dataclass(frozen=True)
class DevEvalWindow:
    """What was assembled for one window (the asset's metadata)."""

    start: dt.date
    end: dt.date
    records: int
    error_records: int
    weight_sum: float
    dataset_version: str | None
    days_with_records: int
    days_without_dataset: list[str]  # days of the window whose eval_dataset was never selected


def window_start(end: dt.date, window_days: int) -> dt.date:
    """The first day of the ``window_days`` days ending on ``end``."""
    if window_days < 1:
        msg = f"dev_eval.window_days must be at least 1, got {window_days}."
        raise ValueError(msg)
    return end - dt.timedelta(days=window_days - 1)


def days_without_dataset(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> list[str]:
    """The days of [start, end] with no selected eval dataset, as ISO dates."""
    selected = {d for (d,) in con.execute(load_sql("dataset/eval_dataset_days_selected"),
                                          {"start": start, "end": end}).fetchall()}
    days = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return [str(d) for d in days if d not in selected]


def build(con: duckdb.DuckDBPyConnection, end: dt.date, window_days: int, seed: str) -> DevEvalWindow:
    """Replace the dev-eval dataset of the window ending on ``end``; the caller owns the transaction.
    ``seed`` keys the choice of a collapsed request's representative (``sampling.seed``)."""
    start = window_start(end, window_days)
    con.execute(load_sql("dataset/dev_eval_dataset_delete_window"), {"end": end})
    con.execute(load_sql("dataset/dev_eval_dataset_insert"), {"start": start, "end": end, "seed": seed})
    con.execute(load_sql("dataset/dev_eval_dataset_version"), {"end": end})
    records, errors, weight, version, days = con.execute(load_sql("dataset/dev_eval_dataset_summary"),
                                                         {"end": end}).fetchall()[0]
    return DevEvalWindow(start=start, end=end, records=records, error_records=errors, weight_sum=weight,
                         dataset_version=version, days_with_records=days,
                         days_without_dataset=days_without_dataset(con, start, end))
