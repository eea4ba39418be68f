"""Contract: landing-zone files become `spans` and `raw_traces` rows for the UTC day the trace's root
started; duplicates are stored once, late and split spans are joined on re-materialization, bad files
are quarantined without losing their neighbours, and rebuilding a day changes nothing."""

import datetime as dt
import gzip
import os
from pathlib import Path

import orjson
import pytest

from eval_pipeline.lib import ingest, warehouse
from eval_pipeline_tests.support import otlp_builders as b

DAY = dt.date(2026, 11, 20)
T = dt.datetime(2026, 11, 20, 9, 0, 0)


def _agent_trace(trace_id: str, start: dt.datetime, question: str = "Where is my parcel?") -> list[dict]:
    root, llm1, tool, llm2 = (b.new_span_id() for _ in range(4))
    msgs = orjson.dumps([{"role": "user", "parts": [{"type": "text", "content": question}]}]).decode()
    return [
        b.span(trace_id, root, "invoke_agent support", start, 3000, status=1, attributes={
            "gen_ai.operation.name": "invoke_agent", "gen_ai.input.messages": msgs,
            "gen_ai.output.messages": orjson.dumps([{"role": "assistant", "parts": [
                {"type": "text", "content": "It arrives Friday."}]}]).decode(),
            "gen_ai.conversation.id": "sess-1", "user.id": "user-1",
            "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 1000}),  # repeated usage: not summed
        b.span(trace_id, llm1, "chat gpt-4o", start + dt.timedelta(milliseconds=10), 500, parent=root,
               attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                           "gen_ai.usage.input_tokens": 30, "gen_ai.usage.output_tokens": 5}),
        b.span(trace_id, tool, "execute_tool track_parcel", start + dt.timedelta(milliseconds=600), 800,
               parent=root, status=2, message="carrier API timeout",
               attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "track_parcel",
                           "gen_ai.tool.call.arguments": '{"id": "P1"}'}),
        b.span(trace_id, llm2, "chat gpt-4o-mini", start + dt.timedelta(milliseconds=1500), 400, parent=root,
               attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                           "gen_ai.usage.input_tokens": 50, "gen_ai.usage.output_tokens": 9}),
    ]


def _write(path: Path, spans: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(b.request(spans)))
    return path


def _run(db: Path, landing: Path, day: dt.date = DAY) -> ingest.DayResult:
    with warehouse.connect(db) as con:
        ingest.ingest_files(con, ingest.changed_files(con, ingest.landing_files(landing)), workers=1)
        return ingest.build_day(con, day)


def _rows(db: Path, sql: str, params: dict | None = None) -> list[dict]:
    with warehouse.connect(db) as con:
        return con.sql(sql, params=params or {}).pl().to_dicts()


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "wh.duckdb", tmp_path / "landing"


def test_build_day_rolls_up_the_canonical_trace(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    tid = b.new_trace_id()
    _write(landing / "a.json", _agent_trace(tid, T))
    result = _run(db, landing)
    assert (result.traces, result.spans) == (1, 4)
    row = _rows(db, "SELECT * FROM raw_traces")[0]
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
    spans = _agent_trace(b.new_trace_id(), T)
    _write(landing / "a.json", spans)
    _write(landing / "retry.json", spans[:2])  # defect: the exporter retried and re-sent two spans
    result = _run(db, landing)
    assert (result.traces, result.spans, result.duplicate_spans) == (1, 4, 2)


def test_build_day_joins_late_spans_on_rematerialization(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    tid = b.new_trace_id()
    spans = _agent_trace(tid, T)
    _write(landing / "first.json", spans[:2])
    assert _run(db, landing).spans == 2
    _write(landing / "later.jsonl", spans[2:])  # the rest of the trace arrives in another file, later
    result = _run(db, landing)
    assert (result.traces, result.spans) == (1, 4)
    assert _rows(db, "SELECT tool_path FROM raw_traces")[0]["tool_path"] == ["track_parcel"]


def test_build_day_trace_crossing_midnight_belongs_to_its_root_day(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    tid = b.new_trace_id()
    _write(landing / "a.json", _agent_trace(tid, dt.datetime(2026, 11, 20, 23, 59, 59, 500000)))
    assert _run(db, landing, DAY).traces == 1
    assert _run(db, landing, DAY + dt.timedelta(days=1)).traces == 0
    assert _rows(db, "SELECT count(*) AS n FROM spans WHERE trace_date = $d", {"d": DAY})[0]["n"] == 4


def test_build_day_span_with_missing_parent_is_a_root_candidate(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    tid = b.new_trace_id()
    spans = _agent_trace(tid, T)[1:]  # defect: the root span was never exported
    _write(landing / "a.json", spans)
    assert _run(db, landing).traces == 1
    row = _rows(db, "SELECT root_span_name, request FROM raw_traces")[0]
    assert row["root_span_name"] == "chat gpt-4o"
    assert row["request"] is None  # content absent on that span: the trace is kept, request NULL


def test_build_day_rerun_changes_nothing_and_replaces_only_its_day(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    _write(landing / "a.json", _agent_trace(b.new_trace_id(), T) + _agent_trace(b.new_trace_id(), T))
    _write(landing / "b.json", _agent_trace(b.new_trace_id(), T + dt.timedelta(days=1)))
    _run(db, landing, DAY)
    _run(db, landing, DAY + dt.timedelta(days=1))
    before = _rows(db, "SELECT * FROM raw_traces ORDER BY trace_id")
    spans_before = _rows(db, "SELECT * FROM spans ORDER BY trace_id, span_id")
    _run(db, landing, DAY)
    assert _rows(db, "SELECT * FROM raw_traces ORDER BY trace_id") == before
    assert _rows(db, "SELECT * FROM spans ORDER BY trace_id, span_id") == spans_before
    assert [r["trace_date"] for r in before].count(DAY) == 2


def test_ingest_bad_files_are_quarantined_and_good_data_kept(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    good = orjson.dumps(b.request(_agent_trace(b.new_trace_id(), T)))
    (landing).mkdir(parents=True)
    (landing / "mixed.jsonl").write_bytes(good + b"\n{oops\n" + orjson.dumps(
        b.request(_agent_trace(b.new_trace_id(), T))) + b"\n")  # defect: line 2 is malformed JSON
    (landing / "empty.json").write_bytes(b"")  # defect: empty file
    (landing / "cut.json.gz").write_bytes(gzip.compress(good)[:-30])  # defect: truncated gzip
    (landing / "logs.json").write_bytes(b'{"resourceLogs": []}')  # defect: wrong shape
    landed = b.ns(T)
    for name in ("empty.json", "cut.json.gz", "logs.json"):  # no span to date them: they count when they landed
        os.utime(landing / name, ns=(landed, landed))
    (landing / "old.json").write_bytes(b"")  # defect: empty, and landed on another day
    os.utime(landing / "old.json", ns=(landed - 5 * 86_400 * 10**9,) * 2)
    result = _run(db, landing)
    assert result.traces == 2
    q = _rows(db, "SELECT source_file, position, reason FROM quarantine ORDER BY source_file, position")
    by_file = {Path(r["source_file"]).name for r in q}
    assert by_file == {"mixed.jsonl", "empty.json", "cut.json.gz", "logs.json", "old.json"}
    assert any(r["position"] == 2 and Path(r["source_file"]).name == "mixed.jsonl" for r in q)
    with warehouse.connect(db) as con:
        quarantined, spans, share = ingest.quarantine_share(con, DAY)
    assert spans == 8 and quarantined == len(q) - 1  # all but old.json
    assert share == pytest.approx(quarantined / (quarantined + spans))


def test_ingest_reads_a_file_again_only_when_it_changed(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    f = _write(landing / "a.jsonl", _agent_trace(b.new_trace_id(), T))
    with warehouse.connect(db) as con:
        assert ingest.changed_files(con, ingest.landing_files(landing)) == [str(f)]
        ingest.ingest_files(con, [str(f)], workers=1)
        assert ingest.changed_files(con, ingest.landing_files(landing)) == []
        with f.open("ab") as fh:  # the collector appends another line
            fh.write(b"\n" + orjson.dumps(b.request(_agent_trace(b.new_trace_id(), T))))
        assert ingest.changed_files(con, ingest.landing_files(landing)) == [str(f)]
        ingest.ingest_files(con, [str(f)], workers=1)
        assert con.execute("SELECT sum(span_count) FROM landing_files").fetchall()[0][0] == 8
        assert len(list(ingest.cache_dir(con).glob("*.parquet"))) == 1  # the first version was replaced


def test_ingest_parallel_workers_give_the_same_rows(paths: tuple[Path, Path], tmp_path: Path) -> None:
    db, landing = paths
    for i in range(4):
        _write(landing / f"f{i}.json", _agent_trace(b.new_trace_id(), T))
    _run(db, landing)
    db2 = tmp_path / "wh2.duckdb"
    with warehouse.connect(db2) as con:
        ingest.ingest_files(con, ingest.changed_files(con, ingest.landing_files(landing)), workers=2)
        ingest.build_day(con, DAY)
    q = "SELECT * EXCLUDE (root_span_id) FROM raw_traces ORDER BY trace_id"
    assert _rows(db2, q) == _rows(db, q)


def test_ingest_rebuilds_a_deleted_cache_from_the_landing_zone(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    _write(landing / "a.json", _agent_trace(b.new_trace_id(), T))
    assert _run(db, landing).spans == 4
    with warehouse.connect(db) as con:
        cache = ingest.cache_dir(con)
    for f in cache.glob("*.parquet"):  # someone cleaned up the cache folder
        f.unlink()
    result = _run(db, landing)
    assert (result.traces, result.spans) == (1, 4)
