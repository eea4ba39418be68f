"""DuckDB warehouse helpers: connections that wait for the single-writer lock, the schema, and SQL from ``sql/``."""

import functools
import hashlib
import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

_PACKAGE = Path(__file__).resolve().parents[1]
# The top-level sql/ folder; the package reaches it through the link eval_pipeline/sql -> ../sql, which
# a wheel turns into real files, so a non-editable install finds it too.
SQL_DIR = _PACKAGE / "sql"
# The checkout the package runs from, when it runs from one (an editable install); else None.
PROJECT_ROOT = _PACKAGE.parent if (_PACKAGE.parent / "pyproject.toml").is_file() else None
# The schema, applied in this order: each table's final shape, the columns added to older warehouses, macros.
_SCHEMA_FILES = ("tables", "migrations", "macros")


def data_dir() -> Path:
    """Where the demo's warehouse, landing zone and reports go by default: ``data/`` in the checkout, else
    in the working directory (a non-editable install)."""
    return (PROJECT_ROOT or Path.cwd()) / "data"


@functools.cache
def schema_sql() -> tuple[str, str]:
    """The schema's DDL (``sql/schema/``) and its version, a hash of that text."""
    text = "\n".join(load_sql(f"schema/{name}") for name in _SCHEMA_FILES)
    return text, hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.cache
def load_sql(name: str) -> str:
    """The text of ``sql/<name>.sql`` (``<domain>/<statement>``); values are bound as parameters, never
    formatted in."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        msg = (f"SQL file {path} is missing: the package's sql/ folder is incomplete. Reinstall eval_pipeline, "
               "or in a checkout keep the link eval_pipeline/sql -> ../sql.")
        raise FileNotFoundError(msg)
    return path.read_text()


# Warehouses whose schema this process has checked: (path, inode), so a file deleted and created again
# is checked again.
_SCHEMA_DONE: set[tuple[str, int]] = set()
_SCHEMA_LOCK = threading.Lock()


def ensure_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Create or migrate the schema once per process and warehouse file: the version stored in the warehouse
    (``schema_version``) says whether the DDL has to run at all."""
    key = (str(path.resolve()), os.stat(path).st_ino)
    if key in _SCHEMA_DONE:
        return
    with _SCHEMA_LOCK:
        ddl, version = schema_sql()
        try:
            stored = con.execute("SELECT version FROM schema_version").fetchall()
        except duckdb.CatalogException:
            stored = []
        if stored != [(version,)]:
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(ddl)
                con.execute("CREATE OR REPLACE TABLE schema_version AS SELECT $v AS version, now() AS applied_at",
                            {"v": version})
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        _SCHEMA_DONE.add(key)


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
            ensure_schema(con, path)
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


def insert_rows(con: duckdb.DuckDBPyConnection, statement: str, relation: str, rows: list[dict],
                params: dict | None = None) -> None:
    """Run ``sql/<statement>.sql``, an INSERT reading ``rows`` as the relation ``relation`` (nothing when
    there are no rows)."""
    if not rows:
        return
    # Through polars, not pa.Table.from_pylist: that imports pandas (0.5 s of CPU in every run's process).
    con.register(relation, pl.DataFrame(rows, infer_schema_length=None))
    try:
        con.execute(load_sql(statement), params)
    finally:
        con.unregister(relation)
