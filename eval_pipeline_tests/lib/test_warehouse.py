"""Contract: a second process waits for DuckDB's single-writer lock instead of failing (concurrent
backfill runs queue), gives up with a clear message after its wait, and loses no rows."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from eval_pipeline.lib import warehouse

WRITER = """
import sys
from eval_pipeline.lib import warehouse
with warehouse.connect(sys.argv[1], wait_s=float(sys.argv[2])) as con:
    con.execute("INSERT INTO quarantine (source_file, reason) VALUES ('other-process', 'test')")
print("wrote")
"""


def _writer(db: Path, wait_s: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(wait_s)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_connect_waits_for_the_write_lock(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    with warehouse.connect(db) as con:
        con.execute("INSERT INTO quarantine (source_file, reason) VALUES ('this-process', 'test')")
        proc = _writer(db, 60)
        time.sleep(2.0)  # the other process is now waiting on the lock
        assert proc.poll() is None
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    with warehouse.connect(db) as con:
        rows = sorted(r[0] for r in con.execute("SELECT source_file FROM quarantine").fetchall())
    assert rows == ["other-process", "this-process"]


def test_connect_gives_up_with_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    with warehouse.connect(db):
        proc = _writer(db, 1)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "stayed locked by another process" in err


def test_load_sql_names_a_missing_file() -> None:
    with pytest.raises(FileNotFoundError, match="is missing"):
        warehouse.load_sql("no_such_statement")
