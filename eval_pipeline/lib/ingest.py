"""Landing zone -> warehouse: parse new or changed files once, then build a day's traces with SQL.

Files are parsed at most once per (size, mtime): each file's spans land in ``landed_spans`` and its
problems in ``quarantine``, both replaced as a whole when the file changes. A day's ``spans`` and
``raw_traces`` are then rebuilt from every landed span of the traces whose root started that day, so
spans arriving late or in other files are joined, and duplicates are stored once.
"""

import datetime as dt
import gc
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from eval_pipeline.lib import normalize, otlp
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
    + [("source_file", _STR), ("source_position", pa.int64()), ("span_date", pa.date32())]
)

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
    problems: list[otlp.Problem]
    parquet: str | None


@dataclass
class IngestStats:
    files_read: int = 0
    spans: int = 0
    quarantined: int = 0
    files_skipped: int = 0
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
    read = otlp.read_file(path)
    rows, positions = [], []
    problems = read.problems
    for raw in read.spans:
        try:
            rows.append(normalize.normalize_span(raw))
            positions.append(raw.position)
        except Exception as exc:  # a normaliser bug must not lose the span's neighbours
            problems.append(otlp.Problem(raw.position, f"span {raw.span_id} could not be normalised: "
                                                       f"{type(exc).__name__}: {exc}"))
    parquet = None
    days: list[dt.date] = []
    if rows:
        cols = list(zip(*rows, strict=True))
        n = len(rows)
        start_idx = normalize.COLUMNS.index("start_ns")
        day_numbers = [s // _NS_PER_DAY for s in cols[start_idx]]
        arrays = [pa.array(cols[i], type=SCHEMA.field(i).type) for i in range(len(normalize.COLUMNS))]
        arrays += [pa.array([path] * n, _STR), pa.array(positions, pa.int64()),
                   pa.array(day_numbers, pa.int32()).cast(pa.date32())]
        table = pa.Table.from_arrays(arrays, schema=SCHEMA)
        fd, parquet = tempfile.mkstemp(suffix=".parquet", dir=out_dir)
        os.close(fd)
        pq.write_table(table, parquet, compression="none")
        days = sorted({_EPOCH + dt.timedelta(days=d) for d in set(day_numbers)})
    return FileResult(path, st.st_size, st.st_mtime_ns, read.fmt, len(rows), days, problems, parquet)


def changed_files(con: duckdb.DuckDBPyConnection, paths: Iterable[Path]) -> list[str]:
    """Files not seen before, or whose size or modification time changed since they were read."""
    known = {f: (s, m) for f, s, m in con.execute(
        "SELECT source_file, size_bytes, mtime_ns FROM landing_files").fetchall()}
    out = []
    for p in paths:
        st = p.stat()
        if known.get(str(p)) != (st.st_size, st.st_mtime_ns):
            out.append(str(p))
    return out


def _store(con: duckdb.DuckDBPyConnection, r: FileResult, seen_at: dt.datetime) -> None:
    with transaction(con):
        con.execute("DELETE FROM landed_spans WHERE source_file = ?", [r.source_file])
        con.execute("DELETE FROM quarantine WHERE source_file = ?", [r.source_file])
        if r.parquet:
            con.execute("INSERT INTO landed_spans SELECT * FROM read_parquet(?)", [r.parquet])
        if r.problems:
            con.executemany(
                "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?)",
                [[r.source_file, p.position, p.reason, p.excerpt, seen_at] for p in r.problems],
            )
        con.execute(
            "INSERT OR REPLACE INTO landing_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [r.source_file, r.size_bytes, r.mtime_ns, r.fmt, r.span_count, len(r.problems), r.days, seen_at],
        )
    if r.parquet:
        os.unlink(r.parquet)


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    paths: list[str],
    *,
    workers: int | None = None,
    progress: Callable[[int, int, FileResult], None] | None = None,
) -> IngestStats:
    """Parse the given files (in parallel when there are several) and store each one atomically."""
    stats = IngestStats()
    if not paths:
        return stats
    workers = workers or min(os.cpu_count() or 1, 4)
    workers = max(1, min(workers, len(paths)))
    seen_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with tempfile.TemporaryDirectory(prefix="eval-ingest-") as tmp:
        if workers == 1:
            results = (parse_file(p, tmp) for p in paths)
            pool = None
        else:
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            results = pool.map(parse_file, paths, [tmp] * len(paths))
        try:
            for i, r in enumerate(results, start=1):
                _store(con, r, seen_at)
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


@dataclass
class DayResult:
    traces: int
    spans: int
    duplicate_spans: int


def build_day(con: duckdb.DuckDBPyConnection, day: dt.date) -> DayResult:
    """Replace exactly this day's rows of ``spans`` and ``raw_traces`` from the landed spans."""
    con.execute(load_sql("day_candidates"), {"day": day})
    con.execute(load_sql("day_spans"), {"day": day})
    landed = con.execute("SELECT count(*) FROM day_spans_all").fetchall()[0][0]
    with transaction(con):
        con.execute("DELETE FROM spans WHERE trace_date = $day", {"day": day})
        con.execute(load_sql("spans_insert"), {"day": day})
        con.execute("DELETE FROM raw_traces WHERE trace_date = $day", {"day": day})
        con.execute(load_sql("raw_traces_insert"), {"day": day})
    n_spans = con.execute("SELECT count(*) FROM spans WHERE trace_date = $day", {"day": day}).fetchall()[0][0]
    n_traces = con.execute("SELECT count(*) FROM raw_traces WHERE trace_date = $day", {"day": day}).fetchall()[0][0]
    con.execute("DROP TABLE IF EXISTS day_spans")
    con.execute("DROP TABLE IF EXISTS day_spans_all")
    return DayResult(traces=n_traces, spans=n_spans, duplicate_spans=landed - n_spans)


def quarantine_share(con: duckdb.DuckDBPyConnection, day: dt.date) -> tuple[int, int, float]:
    """(quarantined records, spans read, share) over the files that carry spans of this day, plus
    files that yielded no span at all (they cannot be dated, so every day counts them)."""
    q, s = con.execute(load_sql("quarantine_share"), {"day": day}).fetchall()[0]
    q, s = int(q or 0), int(s or 0)
    return q, s, (q / (q + s) if q + s else 0.0)
