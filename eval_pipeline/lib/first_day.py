"""The first daily partition: ``EVAL_FIRST_DAY``, else a fixed default (plain Python, no Dagster)."""

import datetime as dt
import os

# Fixed, not "N days ago": a moving start would change the partitions under Dagster's feet every day. Set
# EVAL_FIRST_DAY earlier to backfill older traffic.
DEFAULT_FIRST_DAY = "2026-11-01"


def first_day() -> str:
    """``EVAL_FIRST_DAY`` (YYYY-MM-DD), else ``DEFAULT_FIRST_DAY``."""
    value = os.environ.get("EVAL_FIRST_DAY") or DEFAULT_FIRST_DAY
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        msg = f"EVAL_FIRST_DAY={value!r} is not a date; use YYYY-MM-DD, e.g. {DEFAULT_FIRST_DAY}."
        raise ValueError(msg) from None
    return value
