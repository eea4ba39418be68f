"""Landing-zone files -> the Parquet cache: which files changed, and reading each one once.

Files are parsed at most once per (size, mtime), by parallel worker processes: each file's canonical
span rows go to one Parquet file in the cache beside the warehouse (``<warehouse>.landed/``), a narrow row per
span to ``landed_spans``, its problems to ``quarantine``, and a row to ``landing_files``, all replaced when the
file changes. The day rollup (:mod:`.day`) then reads the cache, never the landing zone.

No file can fail a run: whatever a file holds (or a reader process dying on it) ends as rows, quarantine rows,
or the file quarantined whole; a failed write removes its temporary file.
"""

import datetime as dt
import gc
import hashlib
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from eval_pipeline.lib.ingest import normalize, readers
from eval_pipeline.lib.ingest.landing import cache_path
from eval_pipeline.lib.ingest.records import Problem, describe
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


@dataclass
class FileResult:
    source_file: str
    size_bytes: int
    mtime_ns: int
    fmt: str
    span_count: int
    days: list[dt.date]
    problems: list[Problem]
    parquet: str | None
    vanished: bool = False  # deleted between listing and reading: nothing to register


@dataclass
class IngestStats:
    files_read: int = 0
    spans: int = 0
    quarantined: int = 0
    store_seconds: float = 0.0
    by_format: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # the files registered by this call


def _whole(path: str, fmt: str, reason: str) -> FileResult:
    """A file quarantined whole (one problem, no spans), or marked vanished when it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return FileResult(path, 0, 0, fmt, 0, [], [], None, vanished=True)
    return FileResult(path, st.st_size, st.st_mtime_ns, fmt, 0, [], [Problem(0, reason)], None)


def parse_file(path: str, out_dir: str, max_bytes: int = readers.MAX_FILE_BYTES) -> FileResult:
    """Parse one file into a Parquet file of canonical span rows (runs in a worker process); never raises."""
    # Parsing allocates millions of small acyclic objects: the cyclic GC would rescan them over and
    # over and cost ~40 % of the time, for nothing to collect.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse_file(path, out_dir, max_bytes)
    except Exception as exc:
        return _whole(path, "unreadable", f"the file could not be ingested ({describe(exc)}); quarantined whole")
    finally:
        if gc_was_enabled:
            gc.enable()


def _arrays(rows: list[tuple]) -> list[pa.Array]:
    cols = list(zip(*rows, strict=True))
    return [pa.array(cols[i], type=pa.binary()).cast(_STR) if i in _JSON_IDX
            else pa.array(cols[i], type=SCHEMA.field(i).type) for i in range(len(normalize.COLUMNS))]


def _storable(rows: list[tuple], positions: list[int], problems: list[Problem]) -> tuple[list, list[int], list]:
    """The rows Arrow can take, with their positions and arrays: when a batch fails, row by row, so one bad
    value costs its span, never the batch."""
    try:
        return rows, positions, _arrays(rows)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        pass
    kept, kept_pos = [], []
    for row, pos in zip(rows, positions, strict=True):
        try:
            _arrays([row])
        except (pa.ArrowException, OverflowError, TypeError, ValueError) as exc:
            problems.append(Problem(pos, f"span {row[1]} could not be stored: {describe(exc)}; dropped"))
            continue
        kept.append(row)
        kept_pos.append(pos)
    return kept, kept_pos, (_arrays(kept) if kept else [])


def normalise_into(spans: list[readers.RawSpan], rows: list[tuple], positions: list[int],
                   problems: list[Problem]) -> None:
    """Each span's canonical row into ``rows`` and its position into ``positions``, or a problem saying why not."""
    for raw in spans:
        row, problem = normalize.normalize_checked(raw)
        if problem is not None:
            problems.append(problem)
        if row is not None:
            rows.append(row)
            positions.append(raw.position)


def _parse_file(path: str, out_dir: str, max_bytes: int) -> FileResult:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return FileResult(path, 0, 0, "vanished", 0, [], [], None, vanished=True)
    rows: list[tuple] = []
    positions: list[int] = []
    problems: list[Problem] = []
    day_numbers: set[int] = set()
    state = {"writer": None, "tmp": None, "count": 0}

    def write_batch() -> None:
        if not rows:
            return
        good, good_pos, arrays = _storable(rows[:], positions[:], problems)
        rows.clear()
        positions.clear()
        if not good:
            return
        n = len(good)
        days = [row[_START_IDX] // _NS_PER_DAY for row in good]
        day_numbers.update(days)
        arrays += [pa.array([path] * n, _STR), pa.array(good_pos, pa.int64()),
                   pa.array(range(state["count"], state["count"] + n), pa.int64()),
                   pa.array(days, pa.int32()).cast(pa.date32())]
        if state["writer"] is None:
            fd, state["tmp"] = tempfile.mkstemp(suffix=".parquet.tmp", dir=out_dir)
            os.close(fd)
            state["writer"] = pq.ParquetWriter(state["tmp"], SCHEMA, compression="none")
        state["writer"].write_table(pa.Table.from_arrays(arrays, schema=SCHEMA))
        state["count"] += n

    def sink(spans: list[readers.RawSpan]) -> None:
        normalise_into(spans, rows, positions, problems)
        if len(rows) >= _BATCH_ROWS:
            write_batch()

    parquet = None
    try:
        read = readers.read_file(path, sink=sink, max_bytes=max_bytes)
        write_batch()
        if state["writer"] is not None:
            state["writer"].close()
            state["writer"] = None
            # One name per (file, size, mtime): a changed file gets a new name, so the previous version
            # stays readable until the new one is registered.
            digest = hashlib.sha1(path.encode()).hexdigest()[:16]
            parquet = os.path.join(out_dir, f"{digest}-{st.st_size}-{st.st_mtime_ns}.parquet")
            os.replace(state["tmp"], parquet)
            state["tmp"] = None
    finally:
        try:
            if state["writer"] is not None:
                state["writer"].close()
        finally:
            if state["tmp"] is not None:
                Path(state["tmp"]).unlink(missing_ok=True)
    days = sorted(_EPOCH + dt.timedelta(days=d) for d in day_numbers)
    return FileResult(path, st.st_size, st.st_mtime_ns, read.fmt, state["count"], days,
                      read.problems + problems, parquet)


def changed_files(con: duckdb.DuckDBPyConnection, paths: Iterable[Path]) -> list[str]:
    """Files not seen before, whose size or modification time changed since they were read, or whose
    parsed spans are no longer in the cache (a deleted cache folder is rebuilt from the landing zone; a file
    whose spans retention expired is not read again unless it changes)."""
    known = {f: rest for f, *rest in con.execute(load_sql("traces/landing_files_known")).fetchall()}
    out = []
    for p in paths:
        try:
            st = p.stat()
        except OSError:
            continue  # gone since it was listed
        size, mtime, spans, parquet, expired = known.get(str(p), (None, None, 0, None, None))
        if (size, mtime) != (st.st_size, st.st_mtime_ns) or (
                spans and expired is None and not (parquet and os.path.exists(parquet))):
            out.append(str(p))
    return out


def cache_dir(con: duckdb.DuckDBPyConnection) -> Path:
    """Where parsed landing files are kept as Parquet: ``<warehouse>.landed/`` beside the database."""
    db = con.execute(load_sql("traces/warehouse_file")).fetchall()[0][0]
    if not db:
        msg = "Ingestion needs a warehouse file (not an in-memory database) to keep parsed spans beside it."
        raise ValueError(msg)
    out = cache_path(db)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _register(con: duckdb.DuckDBPyConnection, r: FileResult, seen_at: dt.datetime, known: bool) -> None:
    file = {"source_file": r.source_file}
    with transaction(con):
        con.execute(load_sql("traces/quarantine_delete_file"), file)
        if r.problems:
            con.executemany(load_sql("traces/quarantine_insert"),
                            [[r.source_file, p.position, p.reason, p.excerpt, seen_at] for p in r.problems])
        if known:
            con.execute(load_sql("traces/landed_spans_delete_file"), file)
        if r.parquet:
            con.execute(load_sql("traces/landed_spans_insert"), {"parquet": r.parquet})
        con.execute(load_sql("traces/landing_files_upsert"), {
            **file, "size_bytes": r.size_bytes, "mtime_ns": r.mtime_ns, "format": r.fmt, "span_count": r.span_count,
            "quarantine_count": len(r.problems), "days": r.days, "ingested_at": seen_at, "parquet": r.parquet})


def _store(con: duckdb.DuckDBPyConnection, r: FileResult, seen_at: dt.datetime) -> FileResult:
    """Register one parsed file, its spans and its problems atomically; its previous Parquet goes after commit.
    A file whose rows cannot be registered is registered quarantined whole instead."""
    old = con.execute(load_sql("traces/landing_file_parquet"), {"source_file": r.source_file}).fetchall()
    try:
        _register(con, r, seen_at, bool(old))
    except duckdb.Error as exc:
        if r.parquet is None:
            raise  # nothing of the file's own is in the way: the warehouse is
        Path(r.parquet).unlink(missing_ok=True)
        r = FileResult(r.source_file, r.size_bytes, r.mtime_ns, "unreadable", 0, [], [Problem(
            0, f"the file's {r.span_count} spans could not be registered ({describe(exc)}); quarantined whole")],
            None)
        _register(con, r, seen_at, bool(old))
    if old and old[0][0] and old[0][0] != r.parquet:
        Path(old[0][0]).unlink(missing_ok=True)
    return r


Parser = Callable[[str, str, int], FileResult]


def _died(path: str, exc: BaseException) -> FileResult:
    r = _whole(path, "unreadable", f"the reader process died on this file ({describe(exc)}), e.g. out of memory; "
                                   "quarantined whole for now and tried again by the next run. If it keeps "
                                   "dying, lower ingest.max_file_mb or give the workers more memory.")
    # Not remembered as read: a process can die for reasons of the moment (memory taken by something else), and
    # a file quarantined for good on such a day would be lost. The next run tries it again, alone.
    r.mtime_ns = -1
    return r


def _parsed(paths: list[str], out_dir: str, max_bytes: int, workers: int, parser: Parser) -> Iterator[FileResult]:
    """Each file's result, from ``workers`` processes. When a process dies (a crash no reader can catch),
    the files it took down are read again one at a time, so the one that kills its reader is found and
    quarantined and the others are read. Any other exception is not about a file (the parser never raises on
    one): a broken installation fails the run instead of quarantining every file."""
    if workers == 1:
        for p in paths:
            yield parser(p, out_dir, max_bytes)
        return
    pending = list(paths)
    while pending:
        failed: list[tuple[str, BaseException]] = []
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        try:
            futures = [(p, pool.submit(parser, p, out_dir, max_bytes)) for p in pending]
            for p, fut in futures:
                try:
                    r = fut.result()
                except BrokenProcessPool as exc:
                    failed.append((p, exc))
                    continue
                yield r
        finally:
            pool.shutdown(cancel_futures=True)
        if failed and workers == 1:
            # One file at a time: the first that failed is the one that killed its reader; the rest fell with it.
            yield _died(*failed[0])
            failed = failed[1:]
        pending = [p for p, _ in failed]
        workers = 1


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    paths: list[str],
    *,
    workers: int | None = None,
    progress: Callable[[int, int, FileResult], None] | None = None,
    max_bytes: int = readers.MAX_FILE_BYTES,
    parser: Parser = parse_file,
) -> IngestStats:
    """Parse the given files (in parallel processes when there are several) into the Parquet cache
    and register each one atomically. Never fails on what a file holds."""
    stats = IngestStats()
    if not paths:
        return stats
    out_dir = str(cache_dir(con))
    workers = workers or min(os.cpu_count() or 1, 4)
    workers = max(1, min(workers, len(paths)))
    seen_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for i, r in enumerate(_parsed(paths, out_dir, max_bytes, workers, parser), start=1):
        if r.vanished:
            continue
        t0 = time.perf_counter()
        r = _store(con, r, seen_at)
        stats.store_seconds += time.perf_counter() - t0
        stats.files_read += 1
        stats.files.append(r.source_file)
        stats.spans += r.span_count
        stats.quarantined += len(r.problems)
        stats.by_format[r.fmt] = stats.by_format.get(r.fmt, 0) + 1
        if progress:
            progress(i, len(paths), r)
    return stats


def index_unindexed(con: duckdb.DuckDBPyConnection) -> int:
    """Add to ``landed_spans`` the spans of cached files registered before it existed (an older warehouse);
    returns how many files."""
    todo = con.execute(load_sql("traces/landing_files_unindexed")).fetchall()
    for source_file, parquet in todo:
        with transaction(con):
            con.execute(load_sql("traces/landed_spans_delete_file"), {"source_file": source_file})
            con.execute(load_sql("traces/landed_spans_insert"), {"parquet": parquet})
            con.execute(load_sql("traces/landing_files_set_indexed"), {"source_file": source_file})
    return len(todo)
