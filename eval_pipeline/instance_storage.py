"""Dagster's sqlite run and event-log storage, with one SQLAlchemy engine per database file and process.

Dagster's sqlite storages build a new SQLAlchemy engine for every connection (``create_engine`` per event
stored, several per event): about 40 % of the CPU of a run of ``daily_eval``'s shape goes there
(``bench/dagster_floor.py``). These subclasses keep the engine (``NullPool``: no connection outlives its
use, so locking and durability are sqlite's as before) and change nothing else: same files, same schema,
same layout as ``storage: sqlite`` (``history/runs.db``, ``history/runs/<run_id>.db``). The project's
``dagster.yaml`` (``instance.dagster_yaml``) names them.
"""

import contextlib
import functools
from collections.abc import Iterator

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.sql import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

# A long-lived process (the UI, the daemon) opens one event-log file per run it reads: keep the recent ones.
_ENGINES = 256


@functools.lru_cache(maxsize=_ENGINES)
def _engine(conn_string: str, busy_timeout: float | None) -> Engine:
    args = {"timeout": busy_timeout} if busy_timeout is not None else {}
    return create_engine(conn_string, poolclass=NullPool, connect_args=args)


class EngineCachingSqliteEventLogStorage(SqliteEventLogStorage):
    @classmethod
    def from_config_value(cls, inst_data, config_value):  # noqa: ANN001, ANN206 (Dagster's signature)
        return cls(inst_data=inst_data, **config_value)

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = _engine(self.conn_string_for_shard(shard), SQLITE_BUSY_TIMEOUT_SECONDS)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn


class EngineCachingSqliteRunStorage(SqliteRunStorage):
    @classmethod
    def from_config_value(cls, inst_data, config_value):  # noqa: ANN001, ANN206 (Dagster's signature)
        return cls.from_local(inst_data=inst_data, **config_value)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        with _engine(self._conn_string, None).connect() as conn, conn.begin():
            yield conn
