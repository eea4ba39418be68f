"""Contract: a trace belongs to exactly one day, the UTC day its root started, whatever file or order its spans
arrive in: spans after midnight join a root of the day before, a child stamped before its next-day root by a
skewed clock joins that root, and when late spans land for a day already built, the sensor's inputs (the days
a new file's spans touch, the days a run marked for a rebuild) bring the day up to date. No span is lost or
stored twice: the spans stored equal the spans sent."""

import datetime as dt
import gzip
import itertools
import os
from pathlib import Path

import pytest

from eval_pipeline.lib import ingest, warehouse
from eval_pipeline.lib.ingest import landing as landing_module
from eval_pipeline_tests.support import otlp_builders as b
from eval_pipeline_tests.support import otlp_fuzz as fz
from eval_pipeline_tests.support.landing import rows, run_day, write

D = dt.date(2026, 11, 20)
D1 = D + dt.timedelta(days=1)
MIDNIGHT = dt.datetime(2026, 11, 21)


def _crossing() -> tuple[str, dict[str, list[dict]]]:
    """A trace rooted at 23:59:58 on D with children on both sides of midnight, in three batches."""
    tid, root, c1, c2, c3 = b.new_trace_id(), *(b.new_span_id() for _ in range(4))
    s = MIDNIGHT - dt.timedelta(seconds=2)
    return tid, {
        "root": [b.span(tid, root, "invoke_agent crossing", s, 5000)],
        "before": [b.span(tid, c1, "chat gpt-4o", s + dt.timedelta(seconds=1), 500, parent=root)],
        "after": [b.span(tid, c2, "execute_tool lookup", s + dt.timedelta(seconds=3), 500, parent=root,
                         attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup"}),
                  b.span(tid, c3, "chat gpt-4o", s + dt.timedelta(seconds=4), 500, parent=c2)],
    }


def _skewed() -> tuple[str, dict[str, list[dict]]]:
    """A trace rooted just after midnight whose child's clock runs 0.7 s behind: stamped on D."""
    tid, root, child = b.new_trace_id(), b.new_span_id(), b.new_span_id()
    return tid, {
        "skew_root": [b.span(tid, root, "invoke_agent skewed", MIDNIGHT + dt.timedelta(milliseconds=500), 900)],
        "skew_child": [b.span(tid, child, "chat gpt-4o", MIDNIGHT - dt.timedelta(milliseconds=200), 300,
                              parent=root)],  # defect: stamped before its parent, on the day before
    }


def _stored(db: Path) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for r in rows(db, "SELECT trace_id, trace_date, span_count FROM raw_traces ORDER BY trace_date"):
        out.setdefault(r["trace_id"], []).append((r["trace_date"], r["span_count"]))
    for r in rows(db, "SELECT trace_id, count(*) AS n, count(DISTINCT trace_date) AS days FROM spans GROUP BY 1"):
        assert r["days"] == 1, r  # a trace's spans are on one day
    return out


class Sensor:
    """The landing sensor's inputs, ticked until they ask for nothing more, each asked day run as a run would."""

    def __init__(self, db: Path, landing: Path) -> None:
        self.db, self.landing, self.landed, self.marked = db, landing, 0, 0
        self.requested: list[str] = []

    def tick(self) -> None:
        while True:
            days, self.landed = ingest.landed_since(self.landing, self.landed)
            stale, self.marked = ingest.stale_since(self.landing, self.marked)
            todo = sorted(set(days) | set(stale))
            if not todo:
                return
            self.requested += todo
            with warehouse.connect(self.db) as con:
                for day in todo:
                    ingest.ingest_day(con, self.landing, dt.date.fromisoformat(day), workers=1)


def _land(landing: Path, name: str, spans: list[dict], t: int) -> None:
    f = write(landing / "receiver" / "2026-11-21" / f"{name}.json", spans)  # received the day after: late
    os.utime(f, ns=(t, t))


@pytest.mark.parametrize("order", list(itertools.permutations(["root", "before", "after"])))
def test_sensor_and_runs_put_each_trace_on_one_day_whatever_the_arrival_order(tmp_path: Path,
                                                                                order: tuple[str, ...]) -> None:
    db, landing = tmp_path / "wh.duckdb", tmp_path / "landing"
    crossing, batches = _crossing()
    skewed, skew_batches = _skewed()
    skew_order = ["skew_child", "skew_root"] if order[0] == "root" else ["skew_root", "skew_child"]
    sensor = Sensor(db, landing)
    t = b.ns(dt.datetime(2026, 11, 21, 0, 30))
    for i, name in enumerate([*order, *skew_order]):
        _land(landing, name, {**batches, **skew_batches}[name], t + i * 10**9)
        sensor.tick()  # each batch lands after the day it belongs to may already have been built
    assert _stored(db) == {crossing: [(D, 4)], skewed: [(D1, 2)]}
    assert rows(db, "SELECT count(*) AS n FROM spans")[0]["n"] == 6  # every span sent, once


def test_build_day_in_any_file_order_gives_the_same_days(tmp_path: Path) -> None:
    crossing, batches = _crossing()
    skewed, skew_batches = _skewed()
    everything = {**batches, **skew_batches}
    results = []
    for k, order in enumerate(itertools.permutations(everything)):
        if k % 17:  # a spread of the 120 orders: the file names decide the order copies are read in
            continue
        db, landing = tmp_path / f"wh{k}.duckdb", tmp_path / f"landing{k}"
        for i, name in enumerate(order):
            write(landing / f"{i:02d}-{name}.json", everything[name])
        run_day(db, landing, D)
        run_day(db, landing, D1)
        results.append(_stored(db))
    assert results and all(r == {crossing: [(D, 4)], skewed: [(D1, 2)]} for r in results)


def test_late_spans_after_the_nightly_run_are_built_into_their_day(tmp_path: Path) -> None:
    db, landing = tmp_path / "wh.duckdb", tmp_path / "landing"
    crossing, batches = _crossing()
    _land(landing, "early", batches["root"] + batches["before"], b.ns(MIDNIGHT))
    run_day(db, landing, D)  # the nightly run of D, before the after-midnight spans arrived
    assert _stored(db) == {crossing: [(D, 2)]}
    sensor = Sensor(db, landing)
    sensor.landed = b.ns(dt.datetime(2026, 11, 21, 0, 31))  # the sensor has seen everything up to the nightly run
    _land(landing, "late", batches["after"], b.ns(dt.datetime(2026, 11, 21, 9)))
    sensor.tick()
    assert sensor.requested == ["2026-11-21", "2026-11-20"]  # the late spans' day, then the day of their trace
    assert _stored(db) == {crossing: [(D, 4)]}


def test_ingest_day_marks_the_day_a_trace_was_stored_on_when_its_spans_arrive_late(tmp_path: Path) -> None:
    db, landing = tmp_path / "wh.duckdb", tmp_path / "landing"
    _, batches = _crossing()
    write(landing / "a.json", batches["root"])
    run_day(db, landing, D)
    write(landing / "b.json", batches["after"])  # late: spans of D's trace, starting on D+1
    with warehouse.connect(db) as con:
        r = ingest.ingest_day(con, landing, D1, workers=1)
    assert (r.traces, r.stale_days) == (0, [D])
    assert ingest.stale_since(landing, 0)[0] == ["2026-11-20"]
    with warehouse.connect(db) as con:
        assert ingest.ingest_day(con, landing, D, workers=1).spans == 3
    assert ingest.stale_since(landing, 0)[0] == []  # built: the mark is gone
    assert ingest.landing_files(landing) == sorted([landing / "a.json", landing / "b.json"])  # marks are not data


def test_span_days_reads_the_days_of_the_spans_not_of_the_arrival(tmp_path: Path) -> None:
    _, batches = _crossing()
    f = write(tmp_path / "receiver" / "2026-11-25" / "x.json", batches["root"] + batches["after"])
    assert ingest.span_days(f) == {"2026-11-20", "2026-11-21"}
    empty = write(tmp_path / "receiver" / "2026-11-25" / "empty.json", [])
    assert ingest.span_days(empty) == set()
    assert ingest.landed_since(tmp_path, 0)[0] == ["2026-11-20", "2026-11-21", "2026-11-25"]  # empty: its folder


def test_span_days_reads_gzip_protobuf_and_across_chunk_boundaries(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _, batches = _crossing()
    js = b.dumps(b.request(batches["root"] + batches["after"]))
    (tmp_path / "a.json.gz").write_bytes(gzip.compress(js))
    assert ingest.span_days(tmp_path / "a.json.gz") == {"2026-11-20", "2026-11-21"}
    export = [[({}, [("scope", fz.example_spans([b.ns(MIDNIGHT) - 1, b.ns(MIDNIGHT) + 1]))])]]
    (tmp_path / "b.pb").write_bytes(fz.encode(export, "proto_stream"))
    assert ingest.span_days(tmp_path / "b.pb") == {"2026-11-20", "2026-11-21"}
    monkeypatch.setattr(landing_module, "_CHUNK", 7)  # every start time cut by a chunk boundary
    assert ingest.span_days(tmp_path / "a.json.gz") == {"2026-11-20", "2026-11-21"}
