"""Contract: a second process waits for DuckDB's single-writer lock instead of failing (concurrent
backfill runs queue), gives up with a clear message after its wait, and loses no rows."""

import subprocess
import sys
import time
from pathlib import Path

import duckdb
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


def _tables(con) -> set[str]:
    return {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def test_schema_is_applied_once_per_process_and_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "wh.duckdb"
    with warehouse.connect(db) as con:
        assert {"raw_traces", "judge_scores", "schema_version"} <= _tables(con)
        con.execute("DROP TABLE human_labels")  # a planted gap: only a DDL run would bring it back
    with warehouse.connect(db) as con:
        assert "human_labels" not in _tables(con), "the schema ran again on a second connection"
    # A new process (an empty cache) sees the stored version is current and runs no DDL either.
    monkeypatch.setattr(warehouse, "_SCHEMA_DONE", set())
    with warehouse.connect(db) as con:
        assert "human_labels" not in _tables(con)
        con.execute("UPDATE schema_version SET version = 'older'")
    # A warehouse of another schema version is brought up to date.
    monkeypatch.setattr(warehouse, "_SCHEMA_DONE", set())
    with warehouse.connect(db) as con:
        assert "human_labels" in _tables(con)
        assert con.execute("SELECT version FROM schema_version").fetchall() == [(warehouse.schema_sql()[1],)]


def test_schema_migrates_a_warehouse_of_the_first_release(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    # The first release's eval_dataset and daily_metrics: the columns added since are missing.
    con.execute("CREATE TABLE eval_dataset (trace_id VARCHAR, trace_date DATE, request VARCHAR, response VARCHAR, "
                "tool_path VARCHAR[], retrieved_context VARCHAR[], status VARCHAR, latency_tier VARCHAR, "
                "stratum VARCHAR, inclusion_probability DOUBLE, weight DOUBLE, dataset_version VARCHAR, "
                "latency_ms DOUBLE, duplicate_count BIGINT)")
    con.execute("INSERT INTO eval_dataset (trace_id) VALUES ('kept')")
    con.execute("CREATE TABLE daily_metrics (trace_date DATE, traces BIGINT, error_rate DOUBLE, "
                "latency_p50_ms DOUBLE, latency_p95_ms DOUBLE, latency_p99_ms DOUBLE, input_tokens BIGINT, "
                "output_tokens BIGINT, quarantined BIGINT, dataset_records BIGINT, computed_at TIMESTAMP)")
    con.close()
    with warehouse.connect(db) as con:
        cols = {c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'eval_dataset'")
                .fetchall()}
        assert {"model", "request_key", "selected_by"} <= cols
        assert con.execute("SELECT trace_id FROM eval_dataset").fetchall() == [("kept",)]
        assert con.execute("SELECT agent_cost_usd, unpriced_models FROM daily_metrics").fetchall() == []
        # The final shapes and the migrated ones agree: a fresh warehouse has the same columns, in order.
        old_cols = con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'daily_metrics' "
                               "ORDER BY column_index").fetchall()
    with warehouse.connect(tmp_path / "new.duckdb") as con:
        new_cols = con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'daily_metrics' "
                               "ORDER BY column_index").fetchall()
    assert old_cols == new_cols
