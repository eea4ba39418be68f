"""Contract: no file content can make ingestion raise. Every malformed shape, value, depth or number becomes a
quarantine row at the smallest scope that holds it (an attribute, an event, a span, a line) and the good parts
around it are kept; JSON lines are read line by line whatever the first line holds; a file that cannot be
handled at all is quarantined whole, one that kills its reader process too (and is tried again by the next
run), and the other files and days are read."""

import datetime as dt
import os
from pathlib import Path

import orjson
import pytest

from eval_pipeline.lib import ingest, warehouse
from eval_pipeline.lib.ingest import files, normalize, readers
from eval_pipeline_tests.support import otlp_builders as b
from eval_pipeline_tests.support.landing import DAY, T, agent_trace, rows, run_day, write
from eval_pipeline_tests.support.poison import POISON, line, span


@pytest.mark.parametrize("name", POISON)
def test_parse_file_poisoned_file_gives_quarantine_rows_and_keeps_the_good_spans(tmp_path: Path, name: str) -> None:
    data, kept, reason = POISON[name]
    f = tmp_path / f"{name}.json"
    f.write_bytes(data)
    r = files.parse_file(str(f), str(tmp_path))
    assert r.span_count == kept
    assert [p.reason for p in r.problems if reason in p.reason], r.problems
    assert len(r.problems) == 1  # one bad thing, one quarantine row


def test_ingest_poisoned_files_beside_good_ones_build_every_day(tmp_path: Path) -> None:
    db, landing = tmp_path / "wh.duckdb", tmp_path / "landing"
    write(landing / "good.json", agent_trace(b.new_trace_id(), T))
    write(landing / "next.json", agent_trace(b.new_trace_id(), T + dt.timedelta(days=1)))
    for name, (data, _, _) in POISON.items():
        (landing / f"{name}.json").write_bytes(data)  # defect: the poisoned files of finding 2
    kept = sum(k for _, k, _ in POISON.values())  # one-span traces the poisoned files hold beside the poison
    assert run_day(db, landing).traces == 1 + kept
    assert run_day(db, landing, DAY + dt.timedelta(days=1)).traces == 1
    q = rows(db, "SELECT source_file, reason FROM quarantine")
    assert sorted(Path(r["source_file"]).stem for r in q) == sorted(POISON)
    spans = rows(db, "SELECT sum(span_count) AS n FROM landing_files")[0]["n"]
    assert spans == 4 + 4 + kept


@pytest.mark.parametrize("first", [b"not json at all", b"\x00\x01\x02binary junk", b'{"resourceSpans": [ cut'])
def test_read_bytes_jsonl_whose_first_line_is_not_json_keeps_every_valid_line(first: bytes) -> None:
    data = first + b"\n" + line([span()]) + b"\n" + line([span(), span()]) + b"\n"  # defect: line 1
    read = readers.read_bytes(data)
    assert (read.fmt, len(read.spans)) == ("otlp-jsonl", 3)
    assert [(p.position, "malformed JSON on line 1" in p.reason) for p in read.problems] == [(1, True)]


def test_read_bytes_bad_attribute_and_event_are_dropped_span_kept() -> None:
    s = span()
    s["attributes"] += [{"key": "n", "value": {"intValue": "12x"}},  # defect: not an integer
                        {"key": "deep", "value": b.any_value(_nested(40))},  # defect: 40 levels deep
                        {"value": {"stringValue": "no key"}},  # defect: no key
                        {"key": "ok", "value": {"stringValue": "kept"}}]
    s["events"] = [{"name": "fine", "timeUnixNano": s["startTimeUnixNano"]},
                   {"name": "bad", "timeUnixNano": "soon"},  # defect: not a time
                   "not an event"]  # defect: not an object
    read = readers.read_bytes(line([s]))
    [kept] = read.spans
    assert kept.attributes == {"gen_ai.operation.name": "chat", "ok": "kept"}
    assert [e["name"] for e in kept.events] == ["fine"]
    reasons = [p.reason for p in read.problems]
    assert len(reasons) == 5
    assert any("'n'" in r and "not an integer" in r for r in reasons)
    assert any("'deep'" in r and "deeper than" in r for r in reasons)
    assert sum("event dropped" in r for r in reasons) == 2


def _nested(depth: int) -> object:
    v: object = "leaf"
    for _ in range(depth):
        v = {"k": v}
    return v


@pytest.mark.parametrize(("start", "end", "kept", "reason"), [
    ("0", None, 0, "outside the accepted range"),  # defect: a clock at the epoch
    (str(b.ns(dt.datetime(2200, 1, 1))), None, 0, "outside the accepted range"),  # defect: year 2200
    (str(b.ns(T)), str(b.ns(T) - 5_000_000), 1, "ends 5.000 ms before it starts"),  # defect: end before start
    (str(b.ns(T)), "later", 1, "not an integer"),  # defect: end is not a number
])
def test_read_bytes_times_out_of_range_are_quarantined(start: str, end: str | None, kept: int, reason: str) -> None:
    s = span(startTimeUnixNano=start)
    if end is not None:
        s["endTimeUnixNano"] = end
    read = readers.read_bytes(line([s, span()]))
    assert len(read.spans) == 1 + kept
    assert all(x.end_ns >= x.start_ns for x in read.spans)
    assert len(read.problems) == 1 and reason in read.problems[0].reason


def test_normalize_checked_keeps_a_span_it_cannot_interpret_with_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    [raw] = readers.read_bytes(line([span()])).spans

    def broken(*_: object) -> str:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(normalize, "_span_type", broken)  # defect: a normaliser bug on this span
    row, problem = normalize.normalize_checked(raw)
    assert row is not None and row[:3] == (raw.trace_id, raw.span_id, None) and row[5] == "other"
    assert "could not be interpreted (RecursionError" in problem.reason


def test_normalize_span_deeply_nested_json_text_does_not_lose_the_span() -> None:
    deep = '{"input": ' * 400 + '"x"' + "}" * 400  # defect: JSON text nested 400 deep in input.value
    s = span(attributes=b.attrs({"openinference.span.kind": "TOOL", "input.value": deep, "tool.name": "t"}))
    [raw] = readers.read_bytes(line([s])).spans
    row, _ = normalize.normalize_checked(raw)
    assert row is not None and row[1] == raw.span_id


def test_parse_file_reader_crash_quarantines_the_file_whole_and_leaves_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = write(tmp_path / "landing" / "a.json", agent_trace(b.new_trace_id(), T))
    out = tmp_path / "cache"
    out.mkdir()

    def crash(*_: object) -> None:
        raise OSError(28, "No space left on device")  # defect: the write fails after the temporary file exists

    monkeypatch.setattr(files.os, "replace", crash)
    r = files.parse_file(str(f), str(out))
    assert (r.fmt, r.span_count, r.parquet) == ("unreadable", 0, None)
    assert "could not be ingested (OSError: [Errno 28] No space left on device)" in r.problems[0].reason
    assert list(out.iterdir()) == []


def die_on_poison(path: str, out_dir: str, max_bytes: int) -> files.FileResult:
    """A parser whose process dies on files named *poison* (what an out-of-memory kill looks like)."""
    if "poison" in path:
        os._exit(9)
    return files.parse_file(path, out_dir, max_bytes)


def test_ingest_files_a_reader_process_dying_quarantines_that_file_only(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    good = [write(landing / f"g{i}.json", agent_trace(b.new_trace_id(), T)) for i in range(3)]
    write(landing / "poison.json", agent_trace(b.new_trace_id(), T))  # defect: kills the process reading it
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        paths = [str(p) for p in ingest.landing_files(landing)]
        stats = ingest.ingest_files(con, paths, workers=2, parser=die_on_poison)
        assert stats.files_read == 4 and stats.spans == 12
        q = con.execute("SELECT source_file, reason FROM quarantine").fetchall()
        assert [(Path(f).name, "reader process died" in r) for f, r in q] == [("poison.json", True)]
        # tried again by the next run (a process may die for want of memory on one day only), the others not
        assert ingest.changed_files(con, [*good, landing / "poison.json"]) == [str(landing / "poison.json")]
