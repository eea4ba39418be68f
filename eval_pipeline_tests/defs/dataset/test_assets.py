"""Contract: the eval_dataset asset replaces its day from masked_traces only and its checks (Great Expectations
rules and SQL predicates) pass on healthy data and fail on planted defects (size bounds, stratum drift, the
alarm naming what moved); dev_eval_dataset unites a window of daily datasets, collapses a request asked
several times (on one day or several) into one record carrying every collapsed record's weight, holds no
duplicate request (its no_duplicate_requests check), is versioned by a content hash, reports missing days,
and stays out of the daily_eval job (it is materialized explicitly)."""

import datetime as dt
import json
import random
import re
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pyarrow as pa
import pytest

from eval_pipeline.definitions import defs
from eval_pipeline.defs.dataset import assets, checks
from eval_pipeline.lib import warehouse
from eval_pipeline.lib.expectations import validate
from eval_pipeline.resources import Settings, Warehouse

DAY = dt.date(2026, 11, 20)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}")
CHECKS = [checks.eval_dataset_expectations, checks.every_stratum_represented, checks.error_share_matches_target,
          checks.weights_sum_to_eligible_traces, checks.stratum_mix_stable]


def _traffic(day: dt.date, n: int = 400, seed: int = 1, paths: list | None = None) -> list[dict]:
    rng = random.Random(seed)
    paths = paths or [["search"], ["search", "answer"], [], ["refund"]]
    rows = []
    for i in range(n):
        rows.append({"trace_id": f"{day:%m%d}{i:028x}", "trace_date": day,
                     # the same 300 questions come back every day: the dev-eval set must collapse them
                     "request": f"How do I do thing {i % 300} with <EMAIL:{rng.getrandbits(40):010x}>?",
                     "response": f"Answer {i}", "tool_path": rng.choice(paths),
                     "status": "error" if rng.random() < 0.08 else "ok", "latency_ms": rng.lognormvariate(7, 1),
                     "models": ["model-a"], "session_id": f"s{i // 4}", "user_id": f"u{i % 40}",
                     "service_name": "support"})
    return rows


def _seed(db: Path, rows: list[dict]) -> None:
    with warehouse.connect(db) as con:
        con.register("rows", pa.Table.from_pylist(rows))
        con.execute("INSERT INTO masked_traces BY NAME SELECT * FROM rows")
        # planted: the unmasked text sits in raw_traces; nothing selected may ever show it
        con.execute("INSERT INTO raw_traces BY NAME SELECT trace_id, trace_date, "
                    "'write to jane.doe@example.com' AS request FROM rows")
        con.unregister("rows")


def _materialize(asset, day: dt.date, with_checks: bool = True) -> dg.ExecuteInProcessResult:
    return dg.materialize([asset, *(CHECKS if with_checks else [])], partition_key=day.isoformat(),
                          resources={"warehouse": Warehouse(), "settings": Settings()}, raise_on_error=True)


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "eval.yaml"
    path.write_text(text)
    monkeypatch.setenv("EVAL_CONFIG", str(path))


def test_eval_dataset_materializes_with_passing_checks_and_is_idempotent(pipeline_env: dict[str, Path]) -> None:
    _seed(pipeline_env["warehouse"], _traffic(DAY))
    result = _materialize(assets.eval_dataset, DAY)
    found = _checks(result)
    assert set(found) == {"dataset_size_within_bounds",
                          "inclusion_probability_in_unit_interval", "weight_at_least_one",
                          "every_stratum_represented", "error_share_matches_target",
                          "weights_sum_to_eligible_traces", "stratum_mix_stable"}
    assert all(c.passed for c in found.values()), {k: c.passed for k, c in found.items()}
    meta = result.asset_materializations_for_node("eval_dataset")[0].metadata
    assert meta["eligible_traces"].value == 400 and meta["unique_requests"].value == 300
    with duckdb.connect(str(pipeline_env["warehouse"]), read_only=True) as con:
        first = con.execute("SELECT * FROM eval_dataset ORDER BY trace_id").fetchall()
        assert not EMAIL.findall(json.dumps(first, default=str))
    _materialize(assets.eval_dataset, DAY, with_checks=False)
    with duckdb.connect(str(pipeline_env["warehouse"]), read_only=True) as con:
        assert con.execute("SELECT * FROM eval_dataset ORDER BY trace_id").fetchall() == first
    assert meta["records"].value == len(first) > 0


def test_eval_dataset_checks_fail_on_size_and_drift(pipeline_env: dict[str, Path], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _config(tmp_path, monkeypatch, "dataset_checks:\n  max_size: 5\n  drift_days: 3\n")
    for k in range(1, 4):
        day = DAY - dt.timedelta(days=k)
        _seed(pipeline_env["warehouse"], _traffic(day, seed=k))
        _materialize(assets.eval_dataset, day, with_checks=False)
    # planted defect: today the agent suddenly routes everything through a tool never seen before
    _seed(pipeline_env["warehouse"], _traffic(DAY, paths=[["new_tool"]]))
    found = _checks(_materialize(assets.eval_dataset, DAY))
    assert not found["dataset_size_within_bounds"].passed
    drift = found["stratum_mix_stable"]
    assert not drift.passed and drift.severity == dg.AssetCheckSeverity.ERROR
    assert drift.metadata["psi"].value > 0.25 and drift.metadata["p_value"].value < 0.01
    assert "new_tool" in drift.description.split("moved most:")[1]
    assert found["every_stratum_represented"].passed


def test_dev_eval_dataset_unites_the_window_and_collapses_repeats(pipeline_env: dict[str, Path], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _config(tmp_path, monkeypatch, "dev_eval:\n  window_days: 3\nsampling:\n  target_size: 1000\n"
                                   "  max_per_session: 0\n  max_per_user: 0\n")
    days = [DAY - dt.timedelta(days=k) for k in (2, 1, 0)]
    for k, day in enumerate(days):
        _seed(pipeline_env["warehouse"], _traffic(day, seed=k))
        _materialize(assets.eval_dataset, day, with_checks=False)
    result = dg.materialize([assets.dev_eval_dataset, checks.dev_eval_window_complete,
                             checks.dev_eval_dataset_expectations], partition_key=DAY.isoformat(),
                            resources={"warehouse": Warehouse(), "settings": Settings()})
    assert _checks(result)["dev_eval_window_complete"].passed
    assert _checks(result)["no_duplicate_requests"].passed
    with duckdb.connect(str(pipeline_env["warehouse"]), read_only=True) as con:
        daily_weight = con.execute("SELECT sum(weight) FROM eval_dataset").fetchall()[0][0]
        rows = con.sql("SELECT * FROM dev_eval_dataset WHERE window_end = $d", params={"d": DAY}).pl().to_dicts()
        first = con.execute("SELECT * FROM dev_eval_dataset ORDER BY trace_id").fetchall()
    assert len(rows) == 300  # 3 days x 400 traces (one record each), the same 300 questions
    assert sum(r["duplicate_count"] for r in rows) == 1200
    assert len({r["request_key"] for r in rows}) == 300
    assert sum(r["weight"] for r in rows) == pytest.approx(daily_weight) == pytest.approx(1200)
    assert {r["window_start"] for r in rows} == {days[0]} and {r["trace_date"] for r in rows} == set(days)
    assert len({r["dataset_version"] for r in rows}) == 1
    assert not EMAIL.findall(json.dumps(first, default=str))

    _materialize(assets.dev_eval_dataset, DAY, with_checks=False)  # again: same content, same version
    with duckdb.connect(str(pipeline_env["warehouse"]), read_only=True) as con:
        assert con.execute("SELECT * FROM dev_eval_dataset ORDER BY trace_id").fetchall() == first


def test_dev_eval_no_duplicate_requests_fails_on_a_repeated_request() -> None:
    # planted defect: two records of the window carry the same normalised request
    frame = pl.DataFrame({"trace_id": ["a", "b", "c"], "request_key": ["k1", "k2", "k1"], "weight": [1.0, 2.0, 3.0]})
    [result] = validate(frame, checks.dev_eval_dataset_rules())
    assert result.name == "no_duplicate_requests" and not result.success and result.unexpected_count == 2


def test_dev_eval_dataset_reports_missing_days(pipeline_env: dict[str, Path]) -> None:
    _seed(pipeline_env["warehouse"], _traffic(DAY))
    _materialize(assets.eval_dataset, DAY, with_checks=False)
    result = dg.materialize([assets.dev_eval_dataset, checks.dev_eval_window_complete], partition_key=DAY.isoformat(),
                            resources={"warehouse": Warehouse(), "settings": Settings()})
    check = _checks(result)["dev_eval_window_complete"]
    assert not check.passed  # the default window is 7 days; only one was selected
    assert len(check.metadata["days_without_dataset"].value) == 6
    meta = result.asset_materializations_for_node("dev_eval_dataset")[0].metadata
    assert meta["window"].value == f"{DAY - dt.timedelta(days=6)}..{DAY}" and meta["records"].value > 0


def test_dev_eval_dataset_is_not_in_the_daily_job() -> None:
    d = defs()
    job = d.resolve_job_def("daily_eval")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert "eval_dataset" in keys and "dev_eval_dataset" not in keys
    node = d.resolve_asset_graph().get(dg.AssetKey("dev_eval_dataset"))
    assert node.group_name == "dev_eval" and isinstance(node.partitions_def, dg.DailyPartitionsDefinition)
