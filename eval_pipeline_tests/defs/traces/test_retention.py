"""Contract: with `retention.span_days` set, a run drops the spans of older days but their traces stay; running an
expired day again keeps its `raw_traces` and `masked_traces` as they were (the spans that held the opt-outs are
gone, so masking again could let an opted-out trace back in)."""

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from eval_pipeline.defs.privacy.assets import masked_traces
from eval_pipeline.defs.traces.assets import raw_traces
from eval_pipeline.resources import LandingZone, Settings, Warehouse
from eval_pipeline_tests.support import otlp_builders as b
from eval_pipeline_tests.support.landing import agent_trace, write

TODAY = dt.datetime.now(dt.UTC).date()  # retention counts back from the day the run happens
OLD, RECENT = TODAY - dt.timedelta(days=20), TODAY - dt.timedelta(days=1)


def _run(day: dt.date) -> dg.ExecuteInProcessResult:
    return dg.materialize([raw_traces, masked_traces], partition_key=day.isoformat(),
                          resources={"warehouse": Warehouse(), "landing": LandingZone(), "settings": Settings()})


def _rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_retention_keeps_expired_days_traces_and_masking(pipeline_env: dict[str, Path], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    landing, db = pipeline_env["landing"], pipeline_env["warehouse"]
    at = dt.datetime.combine(OLD, dt.time(9))
    write(landing / "old.json", agent_trace(b.new_trace_id(), at))
    opted = agent_trace(b.new_trace_id(), at)
    opted[1]["attributes"] += b.attrs({"eval.opt_out": True})  # this user opted out of evaluation
    write(landing / "opted.json", opted)
    write(landing / "recent.json", agent_trace(b.new_trace_id(), dt.datetime.combine(RECENT, dt.time(9))))
    assert _run(OLD).success
    old_masked = "SELECT * FROM masked_traces WHERE trace_date = ? ORDER BY trace_id"
    masked = _rows(db, old_masked, [OLD])
    assert len(masked) == 1
    config = tmp_path / "eval.yaml"
    config.write_text("retention:\n  span_days: 7\n")
    monkeypatch.setenv("EVAL_CONFIG", str(config))
    assert _run(RECENT).success
    assert _rows(db, "SELECT trace_date, count(*) FROM spans GROUP BY 1") == [(RECENT, 4)]
    assert _rows(db, "SELECT count(*) FROM raw_traces WHERE trace_date = ?", [OLD]) == [(2,)]
    again = _run(OLD)  # someone re-runs the expired day
    meta = {e.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
            for e in again.get_asset_materialization_events()}
    assert meta["raw_traces"]["rebuilt"].value is False
    assert meta["masked_traces"]["kept_after_retention"].value is True
    assert _rows(db, old_masked, [OLD]) == masked  # the opted-out trace stays out
