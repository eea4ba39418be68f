"""What the checks said about a day, in one place: a check's outcome as plain data, and the warehouse table
``check_results`` that keeps every check's latest outcome per day (the dashboard checks write theirs in the
step that evaluates them; the report copies the others' from the Dagster instance), read by the report and
by SQL users."""

import datetime as dt
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from eval_pipeline.lib.warehouse import load_sql

ERROR, WARN = "ERROR", "WARN"


@dataclass(frozen=True)
class CheckOutcome:
    """One check's outcome for a day. ``passed`` None: the check has no result (it raised, or had not
    finished when this was read). ``figures`` are JSON values (what was measured and the thresholds);
    ``tables`` are markdown tables for the Dagster UI only; ``run_id`` is the Dagster run the outcome came
    from, when it was read from the instance."""

    asset: str
    check: str
    passed: bool | None
    severity: str = ERROR
    description: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    evaluated_at: dt.datetime | None = None

    @property
    def status(self) -> str:
        """'passed', 'failed' (an error), 'warning' or 'no result'."""
        if self.passed is None:
            return "no result"
        if self.passed:
            return "passed"
        return "failed" if self.severity == ERROR else "warning"


def record(con: duckdb.DuckDBPyConnection, day: dt.date, outcomes: Iterable[CheckOutcome]) -> None:
    """Replace these checks' rows of ``day`` in ``check_results``; the caller owns the transaction."""
    for o in outcomes:
        key = {"day": day, "asset": o.asset, "check_name": o.check}
        con.execute(load_sql("dashboards/check_results_delete"), key)
        con.execute(load_sql("dashboards/check_results_insert"), {
            **key, "passed": o.passed, "severity": o.severity, "description": o.description,
            "figures": json.dumps(_jsonable(o.figures), default=str), "evaluated_at": o.evaluated_at})


def day_outcomes(con: duckdb.DuckDBPyConnection, day: dt.date) -> list[CheckOutcome]:
    """``day``'s recorded check outcomes, failures first (no result, errors, warnings), then the passed ones."""
    rows = con.execute(load_sql("dashboards/check_results_day"), {"day": day}).fetchall()
    return [CheckOutcome(asset, check, passed, severity, description, json.loads(figures or "{}"),
                         evaluated_at=at)
            for asset, check, passed, severity, description, figures, at in rows]


def status_by_day(con: duckdb.DuckDBPyConnection) -> dict[dt.date, dict[str, int]]:
    """Per day with recorded outcomes: counts of checks, passed, failed (errors), warnings, no result."""
    rel = con.sql(load_sql("dashboards/check_status_by_day"))
    return {r["trace_date"]: r for r in rel.to_arrow_table().to_pylist()}


_SHORT_LIST = 3  # longer lists (samples, tables) stay in the UI and the report


def summary_line(o: CheckOutcome, spec_description: str | None = None) -> str:
    """One line for a terminal: status, check, asset, what it measured and its thresholds (the scalar figures
    and short lists), and why (the outcome's description, else the check's own)."""
    shown = [f"{k}={_short(v)}" for k, v in o.figures.items()
             if not isinstance(v, dict) and not (isinstance(v, list) and len(v) > _SHORT_LIST)]
    why = o.description or spec_description
    return (f"{o.status.upper():<9} {o.check} on {o.asset}" + (f": {', '.join(shown)}" if shown else "")
            + (f" ({why})" if why else ""))


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    text = json.dumps(v, default=str) if isinstance(v, list) else str(v)
    return text if len(text) <= 80 else text[:77] + "..."


def _jsonable(v: Any) -> Any:
    """``v`` with NaN and infinities as null, which JSON cannot hold."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    return v
