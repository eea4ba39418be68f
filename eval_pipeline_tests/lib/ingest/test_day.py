"""Contract: landing-zone files become `spans` and `raw_traces` rows for the UTC day the trace's root
started; duplicates are stored once, late and split spans are joined on re-materialization, and rebuilding a
day changes nothing; the day's figures (conventions, statuses, quarantine share, what this run read) are
those of the rebuilt day."""

import datetime as dt
import os
from pathlib import Path

import pytest

from eval_pipeline.lib import ingest, warehouse
from eval_pipeline_tests.support import otlp_builders as b
from eval_pipeline_tests.support.landing import DAY, T, agent_trace, rows, run_day, write


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "wh.duckdb", tmp_path / "landing"


def test_build_day_rolls_up_the_canonical_trace(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    tid = b.new_trace_id()
    write(landing / "a.json", agent_trace(tid, T))
    result = run_day(db, landing)
    assert (result.traces, result.spans) == (1, 4)
    row = rows(db, "SELECT * FROM raw_traces")[0]
    assert row["trace_id"] == tid and row["trace_date"] == DAY
    assert row["request"] == "Where is my parcel?" and row["response"] == "It arrives Friday."
    assert row["tool_path"] == ["track_parcel"]
    assert row["tool_calls"] == [{"name": "track_parcel", "arguments": '{"id":"P1"}', "result": None,
                                  "status": "error"}]
    assert row["models"] == ["gpt-4o", "gpt-4o-mini"]
    assert (row["input_tokens"], row["output_tokens"]) == (80, 14)  # LLM spans only, not the agent's repeat
    assert row["model_usage"] == [{"model": "gpt-4o", "input_tokens": 30, "output_tokens": 5},
                                  {"model": "gpt-4o-mini", "input_tokens": 50, "output_tokens": 9}]
    assert row["status"] == "ok"  # the tool error was recovered: the root is ok
    assert row["error_message"] == "carrier API timeout" and row["error_span_count"] == 1
    assert (row["session_id"], row["user_id"], row["span_count"]) == ("sess-1", "user-1", 4)
    assert row["latency_ms"] == pytest.approx(3000.0)
    assert row["conventions"] == ["otel_genai"]


def test_build_day_stores_a_span_delivered_twice_once(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    spans = agent_trace(b.new_trace_id(), T)
    write(landing / "a.json", spans)
    write(landing / "retry.json", spans[:2])  # defect: the exporter retried and re-sent two spans
    result = run_day(db, landing)
    assert (result.traces, result.spans, result.duplicate_spans) == (1, 4, 2)


def test_build_day_joins_late_spans_on_rematerialization(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    tid = b.new_trace_id()
    spans = agent_trace(tid, T)
    write(landing / "first.json", spans[:2])
    assert run_day(db, landing).spans == 2
    write(landing / "later.jsonl", spans[2:])  # the rest of the trace arrives in another file, later
    result = run_day(db, landing)
    assert (result.traces, result.spans) == (1, 4)
    assert rows(db, "SELECT tool_path FROM raw_traces")[0]["tool_path"] == ["track_parcel"]


def test_build_day_trace_crossing_midnight_belongs_to_its_root_day(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    tid = b.new_trace_id()
    write(landing / "a.json", agent_trace(tid, dt.datetime(2026, 11, 20, 23, 59, 59, 500000)))
    assert run_day(db, landing, DAY).traces == 1
    assert run_day(db, landing, DAY + dt.timedelta(days=1)).traces == 0
    assert rows(db, "SELECT count(*) AS n FROM spans WHERE trace_date = $d", {"d": DAY})[0]["n"] == 4


def test_build_day_span_with_missing_parent_is_a_root_candidate(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    tid = b.new_trace_id()
    spans = agent_trace(tid, T)[1:]  # defect: the root span was never exported
    write(landing / "a.json", spans)
    assert run_day(db, landing).traces == 1
    row = rows(db, "SELECT root_span_name, request FROM raw_traces")[0]
    assert row["root_span_name"] == "chat gpt-4o"
    assert row["request"] is None  # content absent on that span: the trace is kept, request NULL


def test_build_day_rerun_changes_nothing_and_replaces_only_its_day(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    write(landing / "a.json", agent_trace(b.new_trace_id(), T) + agent_trace(b.new_trace_id(), T))
    write(landing / "b.json", agent_trace(b.new_trace_id(), T + dt.timedelta(days=1)))
    run_day(db, landing, DAY)
    run_day(db, landing, DAY + dt.timedelta(days=1))
    before = rows(db, "SELECT * FROM raw_traces ORDER BY trace_id")
    spans_before = rows(db, "SELECT * FROM spans ORDER BY trace_id, span_id")
    run_day(db, landing, DAY)
    assert rows(db, "SELECT * FROM raw_traces ORDER BY trace_id") == before
    assert rows(db, "SELECT * FROM spans ORDER BY trace_id, span_id") == spans_before
    assert [r["trace_date"] for r in before].count(DAY) == 2

def test_ingest_day_reports_the_days_figures_and_what_this_run_read(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    write(landing / "a.json", agent_trace(b.new_trace_id(), T))
    failed = agent_trace(b.new_trace_id(), T)
    failed[0]["status"] = {"code": 2, "message": "gave up"}  # the root failed: an error trace
    failed[1]["attributes"] = b.attrs({"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o"})
    write(landing / "b.json", failed)
    (landing / "bad.jsonl").write_bytes(b"{oops\n")  # defect: malformed JSON, dated by when it landed
    os.utime(landing / "bad.jsonl", ns=(b.ns(T), b.ns(T)))
    with warehouse.connect(db) as con:
        first = ingest.ingest_day(con, landing, DAY, workers=1)
        again = ingest.ingest_day(con, landing, DAY, workers=1)
    assert (first.day, first.traces, first.spans, first.duplicate_spans, first.error_traces) == (DAY, 2, 8, 0, 1)
    assert first.conventions == [("openinference", 1), ("otel_genai", 2)]
    assert (first.files_read, first.files_by_format) == (3, {"otlp-json": 2, "otlp-jsonl": 1})
    assert (first.spans_read_this_run, first.quarantined_this_run) == (8, 1)
    assert (first.quarantined, first.spans_read) == (1, 8)
    assert first.quarantine_share == pytest.approx(1 / 9) and first.seconds > 0
    # nothing changed: nothing is read again, the day's figures stay
    assert (again.files_read, again.spans_read_this_run, again.quarantined_this_run) == (0, 0, 0)
    assert (again.traces, again.conventions, again.quarantine_share) == (2, first.conventions, first.quarantine_share)


def test_ingest_day_without_a_landing_zone_builds_an_empty_day(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        r = ingest.ingest_day(con, tmp_path / "missing", DAY)
    assert (r.files_read, r.traces, r.spans, r.conventions, r.quarantine_share) == (0, 0, 0, [], 0.0)
    assert "does not exist" in caplog.text


def test_build_day_tool_spans_without_an_operation_name_are_tool_calls(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    tid = b.new_trace_id()
    spans = agent_trace(tid, T)
    spans[2]["attributes"] = b.attrs({"gen_ai.tool.name": "track_parcel", "gen_ai.tool.call.id": "call_7",
                                      "input.value": '{"id": "P1"}', "output.value": "in transit"})  # Koog's form
    spans[2]["name"] = "tool.call"
    write(landing / "koog.json", spans)
    run_day(db, landing)
    row = rows(db, "SELECT tool_path, tool_calls FROM raw_traces")[0]
    assert row["tool_path"] == ["track_parcel"]
    assert row["tool_calls"] == [{"name": "track_parcel", "arguments": '{"id":"P1"}', "result": "in transit",
                                  "status": "error"}]
