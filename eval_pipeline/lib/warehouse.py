"""DuckDB warehouse helpers: connections that wait for the single-writer lock, and SQL from ``sql/``."""

import functools
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = PROJECT_ROOT / "sql"


@functools.cache
def schema_sql() -> list[str]:
    """The DDL of ``sql/schema/*.sql``, in file-name order (each domain owns a file)."""
    return [p.read_text() for p in sorted((SQL_DIR / "schema").glob("*.sql"))]


@functools.cache
def load_sql(name: str) -> str:
    """The text of ``sql/<name>.sql``; values are bound as parameters, never formatted in."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        msg = f"SQL file {path} is missing; the project's sql/ folder must sit next to eval_pipeline/."
        raise FileNotFoundError(msg)
    return path.read_text()


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Could not set lock" in text or "Conflicting lock" in text)


@contextmanager
def connect(path: str | Path, *, wait_s: float = 600.0, read_only: bool = False,
            memory_limit: str = "2GB") -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, waiting (with jittered backoff) while another process holds the write lock.

    DuckDB allows one writer process per file; concurrent runs of a backfill queue here instead of
    failing. The schema is created on first use.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            # DuckDB's default (80 % of RAM) would let a day's rollup crowd out the parser processes;
            # above the limit it spills to disk instead.
            con = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": memory_limit})
            break
        except duckdb.IOException as exc:
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                if _is_lock_error(exc):
                    msg = (f"The warehouse {path} stayed locked by another process for {wait_s:.0f} s; "
                           "stop the other writer (a run, the UI's asset preview, a notebook) and retry.")
                    raise RuntimeError(msg) from exc
                raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)
    try:
        if not read_only:
            for ddl in schema_sql():
                con.execute(ddl)
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: a run killed halfway leaves the previous state readable."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
