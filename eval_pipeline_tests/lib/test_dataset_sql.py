"""Contract: the eval-dataset SQL draws a deterministic, stratified (tool path x status), error-biased
sample; every stratum with traffic is represented; duplicates collapse into one record whose weight
carries the group; weights estimate the day's eligible traffic; the daily metrics SQL counts right."""

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pytest

from eval_pipeline.lib import warehouse
from eval_pipeline.lib.warehouse import load_sql

DAY = dt.date(2026, 11, 20)
PARAMS = {"day": DAY, "target_size": 60, "min_per_stratum": 3, "error_oversample": 3.0, "seed": "s1"}


def _population(n: int = 2000, seed: int = 5) -> list[dict]:
    rng = random.Random(seed)
    paths = [["search"], ["search", "answer"], [], ["lookup", "refund"], ["rare_tool"]]
    weights = [50, 30, 15, 4.8, 0.2]
    rows = []
    for i in range(n):
        path = rng.choices(paths, weights)[0]
        rows.append({
            "trace_id": f"{i:032x}", "request": f"question number {i}", "tool_path": path,
            "status": "error" if rng.random() < 0.05 else "ok", "latency_ms": rng.lognormvariate(7, 1),
        })
    rows.append({**rows[0], "trace_id": "f" * 32, "request": "  QUESTION   number 0 "})  # a duplicate request
    rows.append({**rows[1], "trace_id": "e" * 32, "request": None})  # no request: not eligible
    return rows


def _load(con, rows: list[dict]) -> None:
    con.register("new_rows", pa.Table.from_pylist([{**r, "trace_date": DAY} for r in rows]))
    con.execute("INSERT INTO masked_traces BY NAME SELECT * FROM new_rows")
    con.unregister("new_rows")


def _select(con, params: dict = PARAMS) -> list[dict]:
    con.execute("DELETE FROM eval_dataset WHERE trace_date = $day", {"day": DAY})
    con.execute(load_sql("eval_dataset_insert"), params)
    con.execute(load_sql("eval_dataset_version"), {"day": DAY})
    return con.sql("SELECT * FROM eval_dataset ORDER BY trace_id").pl().to_dicts()


@pytest.fixture
def con(tmp_path: Path):
    with warehouse.connect(tmp_path / "wh.duckdb") as c:
        _load(c, _population())
        yield c


def test_eval_dataset_is_deterministic_and_seed_dependent(con) -> None:
    first = _select(con)
    assert _select(con) == first
    other = _select(con, {**PARAMS, "seed": "s2"})
    assert {r["trace_id"] for r in other} != {r["trace_id"] for r in first}
    assert len({r["dataset_version"] for r in first}) == 1


def test_eval_dataset_represents_every_stratum_and_oversamples_errors(con) -> None:
    rows = _select(con)
    strata = {s for (s,) in con.execute("SELECT DISTINCT coalesce(nullif(array_to_string(tool_path, '>'), ''), "
                                        "'(no tools)') || ' | ' || status FROM masked_traces "
                                        "WHERE request IS NOT NULL").fetchall()}
    assert "rare_tool | ok" in strata  # a handful of traces in 2000
    assert {r["stratum"] for r in rows} == strata
    error_share_sample = sum(r["status"] == "error" for r in rows) / len(rows)
    error_share_population = con.execute(
        "SELECT avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0 END) FROM masked_traces").fetchall()[0][0]
    assert error_share_sample > 2 * error_share_population


def test_eval_dataset_weights_estimate_the_eligible_traffic(con) -> None:
    rows = _select(con)
    eligible = con.execute("SELECT count(*) FROM masked_traces WHERE request IS NOT NULL").fetchall()[0][0]
    # Poisson sampling: the weighted count is unbiased, not exact; 2001 traces, about 80 records.
    assert sum(r["weight"] for r in rows) == pytest.approx(eligible, rel=0.25)
    for r in rows:
        assert r["weight"] == pytest.approx(r["duplicate_count"] / r["inclusion_probability"])


def test_eval_dataset_collapses_duplicate_requests(con) -> None:
    con.execute("UPDATE masked_traces SET tool_path = ['rare_tool'], status = 'ok' "
                "WHERE trace_id IN ($a, $b)", {"a": "0" * 32, "b": "f" * 32})
    rows = _select(con, {**PARAMS, "min_per_stratum": 500})  # take everything
    dup = [r for r in rows if r["request"].strip().lower().startswith("question number 0")
           and r["request"].split()[-1] == "0"]
    assert len(dup) == 1 and dup[0]["duplicate_count"] == 2
    assert all(r["trace_id"] != "e" * 32 for r in rows)  # no request: never selected


def test_eval_dataset_stable_when_late_traces_arrive(con) -> None:
    before = {r["trace_id"] for r in _select(con)}
    late = [{"trace_id": f"{10_000 + i:032x}", "request": f"late question {i}", "tool_path": ["search"],
             "status": "ok", "latency_ms": 900.0} for i in range(100)]
    _load(con, late)
    after = {r["trace_id"] for r in _select(con)}
    # Each stratum's probability moves a little with the new counts; most members stay members.
    assert len(before & after) >= 0.8 * len(before)


def test_daily_metrics_counts_traffic(con) -> None:
    con.execute("DELETE FROM daily_metrics")
    con.execute(load_sql("daily_metrics_insert"), {"day": DAY})
    traces, error_rate, p50 = con.execute(
        "SELECT traces, error_rate, latency_p50_ms FROM daily_metrics").fetchall()[0]
    expected = con.execute("SELECT count(*), avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0 END), "
                           "median(latency_ms) FROM masked_traces").fetchall()[0]
    assert traces == expected[0] == 2002
    assert error_rate == pytest.approx(expected[1])
    assert p50 == pytest.approx(expected[2])
