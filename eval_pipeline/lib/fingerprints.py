"""Input fingerprints: a step skips a day whose inputs did not change since it last built the day.

A step's fingerprint for a day hashes everything its work reads:

- ``raw_traces`` / ``spans``: the landing files behind the day's traces as the file cache records them (path,
  size, modification time, cached Parquet; ``sql/fingerprints/day_sources.sql``), so a changed file, a late file
  with spans of the day's traces, or a file that moves a trace to or from the day changes it;
- ``masked_traces`` and ``eval_dataset``: the fingerprint their upstream step recorded for the day, plus the
  config section they use (and the masking key's digest);
- ``judge_scores``: the records the judges see, as read (reference answers included), the judges' settings,
  model, endpoint and live-sampling rate;
- for all: the code version, a hash of the package's ``lib/`` sources, ``sql/`` and the versions of the
  libraries that compute results (DuckDB, polars, Great Expectations, ...), so an upgrade rebuilds.

A step records its fingerprint after its write committed, with the day's row counts of its tables; it skips
only when the fingerprint is equal *and* its tables still hold those counts (a day deleted or restored by hand
is rebuilt). A missing upstream fingerprint never matches. ``EVAL_FORCE_REBUILD=1`` (or the run tag
``eval/force_rebuild``) rebuilds regardless. Checks still run on a skipped day: they read the warehouse; a
Great Expectations suite reuses its stored result only when the rows it would validate hash the same
(:func:`cached_rule_results`).
"""

import dataclasses
import datetime as dt
import functools
import hashlib
import importlib.metadata
import json
import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from eval_pipeline.lib.config import Config
from eval_pipeline.lib.expectations import Rule, RuleResult
from eval_pipeline.lib.judging.verdict import JUDGE_ABSTAINED, NO_ANSWER
from eval_pipeline.lib.warehouse import SQL_DIR, load_sql

if TYPE_CHECKING:
    import polars as pl

FORCE_ENV = "EVAL_FORCE_REBUILD"
FORCE_TAG = "eval/force_rebuild"
_TRUE = ("1", "true", "yes", "on")

# The tables each fingerprinted step writes for a day (columns of sql/fingerprints/day_rows.sql).
STEP_TABLES = {
    "raw_traces": ("raw_traces", "spans"),
    "masked_traces": ("masked_traces",),
    "eval_dataset": ("eval_dataset", "eval_dataset_days"),
    "judge_scores": ("judge_scores",),
}
# Unknown verdicts that a new run asks again (the judge did not answer): a day holding any is never skipped.
RETRIED_REASONS = tuple(r for r in NO_ANSWER if r != JUDGE_ABSTAINED)
# Libraries whose version can change what a step computes.
_LIBRARIES = ("duckdb", "polars", "pyarrow", "great-expectations", "litellm", "presidio-analyzer", "spacy")
_LIB_DIR = Path(__file__).resolve().parent

Connect = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]


def force_rebuild(tags: Mapping[str, str] | None = None) -> bool:
    """Whether this run rebuilds every day whatever its fingerprints say: ``EVAL_FORCE_REBUILD=1`` in the
    environment, or the run tag ``eval/force_rebuild`` set to 1 / true."""
    values = (os.environ.get(FORCE_ENV, ""), (tags or {}).get(FORCE_TAG, ""))
    return any(v.strip().lower() in _TRUE for v in values)


def _library_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


@functools.cache
def code_version() -> str:
    """A hash of the code that computes the tables: ``lib/`` and ``sql/`` sources and the libraries' versions."""
    h = hashlib.sha256()
    for root, pattern in ((_LIB_DIR, "*.py"), (SQL_DIR, "*.sql")):
        for path in sorted(root.rglob(pattern)):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    for name in _LIBRARIES:
        h.update(f"{name}={_library_version(name)}\0".encode())
    return h.hexdigest()[:32]


def digest(*parts: Any) -> str:
    """A stable hash of JSON-able parts (dataclasses as dicts, dates and other values as text)."""
    def plain(v: Any) -> Any:
        return dataclasses.asdict(v) if dataclasses.is_dataclass(v) and not isinstance(v, type) else str(v)

    text = json.dumps(parts, sort_keys=True, default=plain)
    return hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------------------------ the steps' fingerprints


def raw_traces_fingerprint(con: duckdb.DuckDBPyConnection, day: dt.date) -> str:
    """The fingerprint of the day's rollup: the landing files behind its traces, as the file cache records them."""
    sources = con.execute(load_sql("fingerprints/day_sources"), {"day": day}).fetchall()
    return digest("raw_traces", code_version(), day, sources)


def derived_fingerprint(con: duckdb.DuckDBPyConnection, step: str, upstream: str, day: dt.date,
                        *settings: Any) -> str | None:
    """The fingerprint of ``step`` built from ``upstream``'s day with ``settings``; None (never equal to a
    recorded one) when the upstream step recorded none for the day."""
    built = _lookup(con, upstream, day)
    if built is None:
        return None
    return digest(step, code_version(), day, built.fingerprint, *settings)


def scores_to_retry(con: duckdb.DuckDBPyConnection, day: dt.date) -> int:
    """The day's scores a new run would ask the judge again (call failures, spent budget)."""
    return con.execute(load_sql("fingerprints/scores_to_retry"),
                       {"day": day, "reasons": list(RETRIED_REASONS)}).fetchall()[0][0]


def judge_scores_fingerprint(con: duckdb.DuckDBPyConnection, day: dt.date, records: Sequence[Mapping[str, Any]],
                             config: Config, live_rate: float, model: str | None,
                             api_base: str | None) -> tuple[str, bool]:
    """The fingerprint of the day's scores: what the judges see (the records as read, reference answers
    included), the judges' settings, the model and endpoint, the live-sampling rate; and whether the stored
    scores may be kept: not while some wait for a call to be asked again (failures, a spent budget)."""
    fp = digest("judge_scores", code_version(), day, list(records), config.judging, config.sampling.seed,
                live_rate, model, api_base)
    return fp, not scores_to_retry(con, day)


# ------------------------------------------------------------------------------------ recording and skipping


@dataclass(frozen=True)
class Built:
    """What a step recorded when it last built a day."""

    fingerprint: str
    run_id: str
    built_at: dt.datetime
    row_counts: dict[str, int]
    figures: str  # what the step showed then (its metadata, serialized by the caller)


def _lookup(con: duckdb.DuckDBPyConnection, step: str, day: dt.date) -> Built | None:
    rows = con.execute(load_sql("fingerprints/lookup"), {"step": step, "day": day}).fetchall()
    if not rows:
        return None
    fp, run_id, built_at, counts, figures = rows[0]
    return Built(fp, run_id, built_at, json.loads(counts or "{}"), figures or "")


def _row_counts(con: duckdb.DuckDBPyConnection, step: str, day: dt.date) -> dict[str, int]:
    if step not in STEP_TABLES:
        return {}  # a check: it writes no table
    cur = con.execute(load_sql("fingerprints/day_rows"), {"day": day})
    row = dict(zip([d[0] for d in cur.description], cur.fetchall()[0], strict=True))
    return {t: int(row[t]) for t in STEP_TABLES.get(step, ())}


def unchanged(con: duckdb.DuckDBPyConnection, step: str, day: dt.date, fingerprint: str | None, *,
              force: bool = False) -> Built | None:
    """The step's last build of ``day`` when it can be kept: same fingerprint, and the step's tables still hold
    the rows it wrote; None when the day must be built (also always when ``force``)."""
    if force or fingerprint is None:
        return None
    built = _lookup(con, step, day)
    if built is None or built.fingerprint != fingerprint:
        return None
    if built.row_counts != _row_counts(con, step, day):
        return None
    return built


def record(con: duckdb.DuckDBPyConnection, step: str, day: dt.date, fingerprint: str | None, run_id: str,
           figures: str = "") -> None:
    """After the step's write committed: it built ``day`` from inputs with ``fingerprint`` (None: forget what
    was recorded, so the next run builds)."""
    counts = _row_counts(con, step, day)
    con.execute(load_sql("fingerprints/record"), {
        "step": step, "day": day, "fingerprint": fingerprint or "", "run_id": run_id,
        "row_counts": json.dumps(counts), "figures": figures})


# ------------------------------------------------------------------------------------ check results


def _frame_digest(con: duckdb.DuckDBPyConnection, frame_sql: str, day: dt.date) -> tuple[int, str]:
    frame = load_sql(frame_sql).strip().rstrip(";")
    query = load_sql("fingerprints/frame_digest").replace("/* frame */", f"\n{frame}\n")
    n, rows_digest = con.execute(query, {"day": day}).fetchall()[0]
    return int(n), rows_digest


def _frame_state(con: duckdb.DuckDBPyConnection, step: str, day: dt.date, frame_sql: str,
                 settings: Sequence[Any]) -> tuple[str, int, Built | None]:
    """The fingerprint of a check over the day's frame (its rows' digest, the code, ``settings``), the frame's
    rows, and what the check recorded for the same fingerprint, if it did."""
    n, rows_digest = _frame_digest(con, frame_sql, day)
    fp = digest(step, code_version(), frame_sql, n, rows_digest, *settings)
    return fp, n, unchanged(con, step, day, fp)


def cached_on_frame(connect: Connect, step: str, day: dt.date, frame_sql: str, run_id: str,
                    compute: Callable[[duckdb.DuckDBPyConnection], Any], *settings: Any) -> tuple[Any, str | None]:
    """``compute(con)``, a JSON-able result of a check that reads only the day's frame (``sql/<frame_sql>.sql``)
    and ``settings``: reused from the run that last computed it on rows that hash the same with the same code
    and settings, else computed and stored. Returns (the result, the run whose result was reused, or None)."""
    with connect() as con:
        fp, _, built = _frame_state(con, step, day, frame_sql, settings)
        if built is not None:
            return json.loads(built.figures), built.run_id
        value = compute(con)
        record(con, step, day, fp, run_id, json.dumps(value))
    return value, None


def cached_rule_results(connect: Connect, step: str, day: dt.date, frame_sql: str, rules: Sequence[Rule],
                        run_id: str, validate: Callable[["pl.DataFrame"], list[RuleResult]],
                        ) -> tuple[int, list[RuleResult], str | None]:
    """A rule suite's results over the day's frame (``sql/<frame_sql>.sql``): reused from the run that last
    evaluated the same rules on rows that hash the same, else ``validate(frame)`` (with the warehouse closed:
    GX takes seconds to import), stored. The digest and the frame are read on one connection, so they are of the
    same rows. Returns (rows, results, the run whose results were reused, or None)."""
    with connect() as con:
        fp, n, built = _frame_state(con, step, day, frame_sql, [[dataclasses.asdict(r) for r in rules]])
        frame = None if built is not None else con.sql(load_sql(frame_sql), params={"day": day}).pl()
    if built is not None:
        return n, [RuleResult(**r) for r in json.loads(built.figures)], built.run_id
    results = validate(frame)
    with connect() as con:
        record(con, step, day, fp, run_id, json.dumps([dataclasses.asdict(r) for r in results]))
    return frame.height, results, None
