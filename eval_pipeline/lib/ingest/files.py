"""Landing-zone files -> the Parquet cache: which files count, which changed, and reading each one once.

Files are parsed at most once per (size, mtime), by parallel worker processes: each file's canonical
span rows go to one Parquet file in the cache beside the warehouse (``<warehouse>.landed/``), its
problems to ``quarantine``, and a row to ``landing_files``, all replaced when the file changes. The day
rollup (:mod:`.day`) then reads the cache, never the landing zone.
"""

import datetime as dt
import gc
import hashlib
import multiprocessing
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from eval_pipeline.lib.ingest import normalize, readers
from eval_pipeline.lib.warehouse import load_sql, transaction

_NS_PER_DAY = 86_400_000_000_000
_EPOCH = dt.date(1970, 1, 1)

_STR = pa.string()
_LIST = pa.list_(pa.string())
_TYPES = {
    "kind": pa.int32(), "start_ns": pa.int64(), "end_ns": pa.int64(), "input_tokens": pa.int64(),
    "output_tokens": pa.int64(), "retrieved_documents": _LIST, "conventions": _LIST,
}
SCHEMA = pa.schema(
    [(c, _TYPES.get(c, _STR)) for c in normalize.COLUMNS]
    + [("source_file", _STR), ("source_position", pa.int64()), ("source_index", pa.int64()),
       ("span_date", pa.date32())]
)
_START_IDX = normalize.COLUMNS.index("start_ns")
# JSON columns arrive as UTF-8 bytes: copied into Arrow as binary, then validated as strings.
_JSON_IDX = {normalize.COLUMNS.index(c) for c in ("attributes", "events", "resource")}
# Rows per Parquet batch: bounds a parser's memory whatever the file size.
_BATCH_ROWS = 20_000

# Landing-zone files that are not trace data and are skipped silently.
_SKIP_SUFFIXES = (".tmp", ".part", ".partial", ".lock", ".md", ".txt", ".duckdb", ".wal", ".key")


@dataclass
class FileResult:
    source_file: str
    size_bytes: int
    mtime_ns: int
    fmt: str
    span_count: int
    days: list[dt.date]
    problems: list[readers.Problem]
    parquet: str | None


@dataclass
class IngestStats:
    files_read: int = 0
    spans: int = 0
    quarantined: int = 0
    store_seconds: float = 0.0
    by_format: dict[str, int] = field(default_factory=dict)


def landing_files(landing_dir: Path) -> list[Path]:
    """Every candidate trace file under the landing zone, recursively, in a stable order."""
    if not landing_dir.is_dir():
        return []
    out = []
    for p in landing_dir.rglob("*"):
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(_SKIP_SUFFIXES):
            out.append(p)
    return sorted(out)


_DAY_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def file_day(path: Path, mtime_ns: int) -> str:
    """The day (``YYYY-MM-DD``) a landed file most likely belongs to: a YYYY-MM-DD folder in its path (the
    receiver's layout), else the UTC day it was written."""
    for part in reversed(path.parts[:-1]):
        if _DAY_DIR.match(part):
            return part
    return dt.datetime.fromtimestamp(mtime_ns / 1e9, dt.UTC).date().isoformat()


def landed_since(landing_dir: Path, after_ns: int) -> tuple[list[str], int]:
    """The days (sorted ``YYYY-MM-DD``) that files written after ``after_ns`` belong to, and the newest
    modification time seen (``after_ns`` when nothing is newer): what the landing sensor asks runs for."""
    newest = after_ns
    days: set[str] = set()
    for path in landing_files(landing_dir):
        mtime = path.stat().st_mtime_ns
        if mtime > after_ns:
            days.add(file_day(path, mtime))
            newest = max(newest, mtime)
    return sorted(days), newest


def parse_file(path: str, out_dir: str) -> FileResult:
    """Parse one file into a Parquet file of canonical span rows (runs in a worker process)."""
    # Parsing allocates millions of small acyclic objects: the cyclic GC would rescan them over and
    # over and cost ~40 % of the time, for nothing to collect.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse_file(path, out_dir)
    finally:
        if gc_was_enabled:
            gc.enable()


def _parse_file(path: str, out_dir: str) -> FileResult:
    st = os.stat(path)
    rows: list[tuple] = []
    positions: list[int] = []
    problems: list[readers.Problem] = []
    day_numbers: set[int] = set()
    state = {"writer": None, "tmp": None, "count": 0}

    def write_batch() -> None:
        if not rows:
            return
        n = len(rows)
        cols = list(zip(*rows, strict=True))
        days = [s // _NS_PER_DAY for s in cols[_START_IDX]]
        day_numbers.update(days)
        arrays = [pa.array(cols[i], type=pa.binary()).cast(_STR) if i in _JSON_IDX
                  else pa.array(cols[i], type=SCHEMA.field(i).type) for i in range(len(normalize.COLUMNS))]
        arrays += [pa.array([path] * n, _STR), pa.array(positions, pa.int64()),
                   pa.array(range(state["count"], state["count"] + n), pa.int64()),
                   pa.array(days, pa.int32()).cast(pa.date32())]
        if state["writer"] is None:
            fd, state["tmp"] = tempfile.mkstemp(suffix=".parquet.tmp", dir=out_dir)
            os.close(fd)
            state["writer"] = pq.ParquetWriter(state["tmp"], SCHEMA, compression="none")
        state["writer"].write_table(pa.Table.from_arrays(arrays, schema=SCHEMA))
        state["count"] += n
        rows.clear()
        positions.clear()

    def sink(spans: list[readers.RawSpan]) -> None:
        for raw in spans:
            try:
                rows.append(normalize.normalize_span(raw))
                positions.append(raw.position)
            except Exception as exc:  # a normaliser bug must not lose the span's neighbours
                problems.append(readers.Problem(raw.position, f"span {raw.span_id} could not be normalised: "
                                                           f"{type(exc).__name__}: {exc}"))
        if len(rows) >= _BATCH_ROWS:
            write_batch()

    read = readers.read_file(path, sink=sink)
    write_batch()
    parquet = None
    if state["writer"] is not None:
        state["writer"].close()
        # One name per (file, size, mtime): a changed file gets a new name, so the previous version
        # stays readable until the new one is registered.
        digest = hashlib.sha1(path.encode()).hexdigest()[:16]
        parquet = os.path.join(out_dir, f"{digest}-{st.st_size}-{st.st_mtime_ns}.parquet")
        os.replace(state["tmp"], parquet)
    days = sorted(_EPOCH + dt.timedelta(days=d) for d in day_numbers)
    return FileResult(path, st.st_size, st.st_mtime_ns, read.fmt, state["count"], days,
                      read.problems + problems, parquet)


def changed_files(con: duckdb.DuckDBPyConnection, paths: Iterable[Path]) -> list[str]:
    """Files not seen before, whose size or modification time changed since they were read, or whose
    parsed spans are no longer in the cache (a deleted cache folder is rebuilt from the landing zone)."""
    known = {f: (s, m, spans, parquet)
             for f, s, m, spans, parquet in con.execute(load_sql("traces/landing_files_known")).fetchall()}
    out = []
    for p in paths:
        st = p.stat()
        size, mtime, spans, parquet = known.get(str(p), (None, None, 0, None))
        if (size, mtime) != (st.st_size, st.st_mtime_ns) or (spans and not (parquet and os.path.exists(parquet))):
            out.append(str(p))
    return out


def cache_dir(con: duckdb.DuckDBPyConnection) -> Path:
    """Where parsed landing files are kept as Parquet: ``<warehouse>.landed/`` beside the database."""
    db = con.execute(load_sql("traces/warehouse_file")).fetchall()[0][0]
    if not db:
        msg = "Ingestion needs a warehouse file (not an in-memory database) to keep parsed spans beside it."
        raise ValueError(msg)
    out = Path(db + ".landed")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _store(con: duckdb.DuckDBPyConnection, r: FileResult, seen_at: dt.datetime) -> None:
    """Register one parsed file and its problems atomically; its previous Parquet goes after commit."""
    file = {"source_file": r.source_file}
    old = con.execute(load_sql("traces/landing_file_parquet"), file).fetchall()
    with transaction(con):
        con.execute(load_sql("traces/quarantine_delete_file"), file)
        if r.problems:
            con.executemany(load_sql("traces/quarantine_insert"),
                            [[r.source_file, p.position, p.reason, p.excerpt, seen_at] for p in r.problems])
        con.execute(load_sql("traces/landing_files_upsert"), {
            **file, "size_bytes": r.size_bytes, "mtime_ns": r.mtime_ns, "format": r.fmt, "span_count": r.span_count,
            "quarantine_count": len(r.problems), "days": r.days, "ingested_at": seen_at, "parquet": r.parquet})
    if old and old[0][0] and old[0][0] != r.parquet:
        Path(old[0][0]).unlink(missing_ok=True)


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    paths: list[str],
    *,
    workers: int | None = None,
    progress: Callable[[int, int, FileResult], None] | None = None,
) -> IngestStats:
    """Parse the given files (in parallel processes when there are several) into the Parquet cache
    and register each one atomically."""
    stats = IngestStats()
    if not paths:
        return stats
    out_dir = str(cache_dir(con))
    workers = workers or min(os.cpu_count() or 1, 4)
    workers = max(1, min(workers, len(paths)))
    seen_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if workers == 1:
        results = (parse_file(p, out_dir) for p in paths)
        pool = None
    else:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        results = pool.map(parse_file, paths, [out_dir] * len(paths))
    try:
        for i, r in enumerate(results, start=1):
            t0 = time.perf_counter()
            _store(con, r, seen_at)
            stats.store_seconds += time.perf_counter() - t0
            stats.files_read += 1
            stats.spans += r.span_count
            stats.quarantined += len(r.problems)
            stats.by_format[r.fmt] = stats.by_format.get(r.fmt, 0) + 1
            if progress:
                progress(i, len(paths), r)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return stats
