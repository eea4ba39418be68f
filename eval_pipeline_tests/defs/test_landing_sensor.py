"""Contract: the landing sensor requests the days a new file's spans belong to (not the day the file arrived),
and the days a run marked for a rebuild because it read late spans of their traces; it stays quiet when nothing
new landed, and it reads the cursor of the version before (the landing time alone)."""

import datetime as dt
import json
import os
from pathlib import Path

import dagster as dg

from eval_pipeline.definitions import defs
from eval_pipeline.lib import ingest
from eval_pipeline.resources import LandingZone
from eval_pipeline_tests.support import otlp_builders as b
from eval_pipeline_tests.support.landing import T, agent_trace, write


def _tick(landing: Path, cursor: str | None = None) -> tuple[list[str], str | None]:
    d = defs()
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=d.get_repository_def(),
                                      resources={"landing": LandingZone(path=str(landing))})
        result = d.resolve_sensor_def("landing_sensor").evaluate_tick(ctx)
    return [r.partition_key for r in result.run_requests], result.cursor


def test_landing_sensor_requests_the_days_of_late_spans_and_of_marked_days(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    # received on the 22nd, holding spans of the 20th (late spans after the nightly run)
    late = write(landing / "receiver" / "2026-11-22" / "late.json", agent_trace(b.new_trace_id(), T))
    days, cursor = _tick(landing)
    assert days == ["2026-11-20"]
    assert _tick(landing, cursor)[0] == []  # quiet: nothing new
    ingest.mark_stale(landing, [dt.date(2026, 11, 19)])  # a run found late spans of a trace stored on the 19th
    days, cursor = _tick(landing, cursor)
    assert days == ["2026-11-19"]
    assert _tick(landing, cursor)[0] == []
    old_cursor = str(late.stat().st_mtime_ns - 1)  # the cursor of the version before: the landing time alone
    assert _tick(landing, old_cursor)[0] == ["2026-11-19", "2026-11-20"]
    assert json.loads(cursor)["landed"] == late.stat().st_mtime_ns


def test_landing_sensor_unreadable_file_asks_for_the_day_it_landed(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    bad = landing / "receiver" / "2026-11-21" / "bad.json"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b'{"resourceSpans": 5}')  # defect: no span to date it by
    os.utime(bad, ns=(b.ns(T), b.ns(T)))
    assert _tick(landing)[0] == ["2026-11-21"]  # its folder: the run that quarantines it happens
