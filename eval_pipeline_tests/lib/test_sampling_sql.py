"""Contract: the eval-dataset selection (sql/dataset/eval_dataset_*.sql through lib.sampling.select_day) draws a
deterministic Poisson sample of traces keyed by trace_id, stratified by tool signature x status x latency tier
x model with sparse cells merged (model, then tier, then signature; never status); every stratum with
traffic gets its minimum; errors and pooled rare tool paths are oversampled; sessions and users are capped;
one row per drawn trace with weight = 1 / inclusion probability; duplicate requests (case, whitespace,
masked placeholders) share a request_key and each carries the day's count of its request (duplicate_count);
records without a request are counted, never selected; filters narrow the slice and a predicate can
never reach beyond masked_traces; membership is stable when late traces arrive; the strata read back
largest first for the asset's metadata table; the daily metrics row (lib.dashboards.write_daily_metrics)
counts that traffic right."""

import dataclasses
import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pytest

from eval_pipeline.lib import dashboards, drift, sampling, warehouse
from eval_pipeline.lib.config import Filters, Sampling

DAY = dt.date(2026, 11, 20)
BASE = Sampling(target_size=60, min_per_stratum=3, error_oversample=3.0, seed="s1", latency_quantiles=(0.9,),
                max_per_session=0, max_per_user=0)


def _population(n: int = 2000, seed: int = 5) -> list[dict]:
    rng = random.Random(seed)
    paths = [["search"], ["search", "search", "answer"], [], ["lookup", "refund"], ["rare_tool"]]
    weights = [50, 30, 15, 4.8, 0.2]
    rows = []
    for i in range(n):
        rows.append({
            "trace_id": f"{i:032x}", "request": f"question number {i}", "tool_path": rng.choices(paths, weights)[0],
            "status": "error" if rng.random() < 0.05 else "ok", "latency_ms": rng.lognormvariate(7, 1),
            "models": ["model-a"], "service_name": "support" if i % 4 else "billing",
            "session_id": f"s{i // 5}", "user_id": f"u{i % 200}",
        })
    rows.append({**rows[0], "trace_id": "f" * 32, "request": "  QUESTION   number 0 "})  # duplicate of row 0
    rows.append({**rows[1], "trace_id": "e" * 32, "request": None})  # no request: not eligible
    rows.append({**rows[2], "trace_id": "d" * 32, "request": "   "})  # blank request: not eligible
    return rows


def _load(con, rows: list[dict], day: dt.date = DAY) -> None:
    con.register("new_rows", pa.Table.from_pylist([{**r, "trace_date": day} for r in rows]))
    con.execute("INSERT INTO masked_traces BY NAME SELECT * FROM new_rows")
    con.unregister("new_rows")


def _select(con, s: Sampling = BASE) -> list[dict]:
    sampling.select_day(con, DAY, s)
    return con.sql("SELECT * FROM eval_dataset WHERE trace_date = $d ORDER BY trace_id", params={"d": DAY}).pl().to_dicts()


def _strata(con) -> dict[str, dict]:
    rows = con.sql("SELECT * FROM eval_dataset_strata WHERE trace_date = $d", params={"d": DAY}).pl().to_dicts()
    return {r["stratum"]: r for r in rows}


@pytest.fixture
def con(tmp_path: Path):
    with warehouse.connect(tmp_path / "wh.duckdb") as c:
        _load(c, _population())
        yield c


def test_selection_is_deterministic_and_seed_dependent(con) -> None:
    first = _select(con)
    assert _select(con) == first
    other = _select(con, dataclasses.replace(BASE, seed="s2"))
    assert {r["trace_id"] for r in other} != {r["trace_id"] for r in first}
    assert len({r["dataset_version"] for r in first}) == 1
    assert {r["dataset_version"] for r in other} != {r["dataset_version"] for r in first}


def test_selection_strata_are_signature_status_tier_model(con) -> None:
    unmerged = _select(con, dataclasses.replace(BASE, merge_strata_below=0))
    for r in unmerged:
        sig, status, tier, model = r["stratum"].split(" | ")
        assert (status, tier, model) == (r["status"], r["latency_tier"], "model-a")
        assert sig == r["tool_signature"]
    # consecutive repeats collapse: search > search > answer is the signature search>answer
    assert "search>answer" in {r["tool_signature"] for r in unmerged}
    assert {r["latency_tier"] for r in unmerged} == {"<=p90", ">p90"}
    # merged: a dimension is either the record's own value or '*' (a rare path's signature: '(rare paths)'),
    # and the status is never merged
    merged = _select(con)
    for r in merged:
        parts = r["stratum"].split(" | ")
        assert parts[1] == r["status"]
        assert parts[0] in (r["tool_signature"], "*", "(rare paths)"), r["stratum"]
        assert parts[2] in (r["latency_tier"], "*") and parts[3] in (r["model"], "*"), r["stratum"]
    assert len({r["stratum"] for r in merged}) < len({r["stratum"] for r in unmerged})


def test_selection_merges_sparse_cells_until_strata_carry_data(con) -> None:
    _select(con)
    strata = _strata(con)
    sel = sampling.day_selection(con, DAY)
    factor = {"ok": 1.0, "error": BASE.error_oversample}
    demand = sum(s["traces"] * factor[s["status"]] for s in strata.values())
    for name, s in strata.items():
        share = BASE.target_size * s["traces"] * factor[s["status"]] / demand
        # every stratum earns merge_strata_below records at proportional allocation, but the pooled leftovers
        # of each status (their signature merged) and the rare paths, which take whatever is left
        assert share >= BASE.merge_strata_below or name.startswith(("* | ", "(rare paths) | ")), (name, share)
    assert sum(s["cells"] for s in strata.values()) == con.execute(
        "SELECT count(*) FROM eval_dataset_cells WHERE trace_date = $d", {"d": DAY}).fetchall()[0][0]
    assert sum(s["traces"] for s in strata.values()) == sel.eligible_traces
    assert sel.strata == len(strata) < 10


@pytest.mark.parametrize("merge", [0.0, BASE.merge_strata_below], ids=["cells", "merged"])
def test_selection_represents_every_stratum_with_its_minimum(con, merge: float) -> None:
    rows = _select(con, dataclasses.replace(BASE, merge_strata_below=merge))
    strata = _strata(con)
    # a handful of rare_tool traces in 2000: their own stratum, or the pooled rare paths' one
    assert any(s.startswith("rare_tool | ok" if merge == 0 else "(rare paths) | ok") for s in strata)
    assert {r["stratum"] for r in rows} == set(strata)
    for name, s in strata.items():
        assert s["records"] >= min(3, s["traces"]), name
    # the minimum is met through the records the hash ranks first, and says so
    assert {r["selected_by"] for r in rows} == {"poisson", "stratum_minimum"}


def test_selection_oversamples_rare_tool_paths(con) -> None:
    # Rare paths stay apart when merged and keep their oversampling: their traces count rare_path_oversample
    # times in the allocation.
    mean_pi = {}
    for factor in (1.0, 3.0):
        _select(con, dataclasses.replace(BASE, rare_path_oversample=factor))
        mean_pi[factor] = dict(con.execute(
            "SELECT starts_with(stratum, '(rare paths)'), avg(inclusion_probability) FROM eval_population "
            "WHERE status = 'ok' GROUP BY ALL").fetchall())
    assert "rare_tool" in {r[0] for r in con.execute(
        "SELECT tool_signature FROM eval_population WHERE starts_with(stratum, '(rare paths) | ok')").fetchall()}
    assert mean_pi[3.0][True] > 1.5 * mean_pi[1.0][True]
    assert mean_pi[3.0][True] > 2 * mean_pi[3.0][False]


def test_selection_strata_read_back_largest_first_for_the_metadata_table(con) -> None:
    rows = _select(con)
    strata = sampling.strata(con, DAY)
    assert [s.traces for s in strata] == sorted((s.traces for s in strata), reverse=True)
    assert {s.stratum: s.records for s in strata} == {k: v["records"] for k, v in _strata(con).items()}
    assert sampling.error_records(con, DAY) == sum(r["status"] == "error" for r in rows)
    table = sampling.strata_table(strata, limit=2)
    assert table.startswith("| stratum | traces | records | expected | weight |")
    assert table.count("\n| ") == 2  # the two largest strata below the header (their pipes escaped)
    assert table.endswith(f"{len(strata) - 2} smaller strata in table eval_dataset_strata.\n")


def test_selection_oversamples_errors_and_hits_the_target(con) -> None:
    rows = _select(con)
    error_share_sample = sum(r["status"] == "error" for r in rows) / len(rows)
    error_share_population = con.execute(
        "SELECT avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0 END) FROM masked_traces").fetchall()[0][0]
    sel = sampling.day_selection(con, DAY)
    assert sel.expected_error_share > 2 * error_share_population
    assert sel.expected_error_share == pytest.approx(error_share_sample, abs=0.1)
    # the minimums come out of the target: the expected size stays near it
    assert sel.expected_records == pytest.approx(BASE.target_size, rel=0.15)
    assert abs(len(rows) - sel.expected_records) < 4 * sel.expected_records ** 0.5


def test_selection_weights_are_one_over_probability_and_estimate_the_traffic(con) -> None:
    rows = _select(con)
    sel = sampling.day_selection(con, DAY)
    assert sel.eligible_traces == 2001 and sel.traces_without_request == 2 and sel.traces == 2003
    assert sum(r["weight"] for r in rows) == pytest.approx(sel.eligible_traces, abs=3 * sel.weight_sum_se)
    for r in rows:
        assert 0 < r["inclusion_probability"] <= 1
        assert r["weight"] == pytest.approx(1 / r["inclusion_probability"])


def test_selection_keys_duplicates_across_case_whitespace_and_placeholders(con) -> None:
    # planted defects: one question asked three times, with different casing, spacing and masked emails
    _load(con, [
        {"trace_id": "a1" * 16, "request": "Reset my password for <EMAIL:0a1b2c3d4e>", "status": "ok",
         "tool_path": ["rare_tool"], "latency_ms": 10.0, "models": ["model-a"]},
        {"trace_id": "a2" * 16, "request": "reset  my password for <EMAIL:ffee001122>\n", "status": "ok",
         "tool_path": ["rare_tool"], "latency_ms": 10.0, "models": ["model-a"]},
        {"trace_id": "a3" * 16, "request": "RESET MY PASSWORD FOR <EMAIL:99aa88bb77>", "status": "error",
         "tool_path": ["search"], "latency_ms": 10.0, "models": ["model-a"]},
    ])
    rows = _select(con, dataclasses.replace(BASE, target_size=5000))  # everything
    resets = [r for r in rows if "password" in r["request"].lower()]
    # each trace is its own record, with its own status and weight: nobody's outcome stands for another's
    assert sorted(r["status"] for r in resets) == ["error", "ok", "ok"]
    assert len({r["request_key"] for r in resets}) == 1 and {r["duplicate_count"] for r in resets} == {3}
    assert all(r["weight"] == pytest.approx(1.0) for r in resets)
    assert len({r["trace_id"] for r in rows}) == len(rows) == 2001 + 3
    assert not {"e" * 32, "d" * 32} & {r["trace_id"] for r in rows}  # no request: never selected
    assert sum(r["weight"] for r in rows) == pytest.approx(2001 + 3)
    sel = sampling.day_selection(con, DAY)
    assert (sel.eligible_traces, sel.unique_requests) == (2004, 2001)  # row 0 and its copy, the resets


def test_selection_stable_when_late_traces_arrive(con) -> None:
    before = {r["trace_id"] for r in _select(con)}
    late = [{"trace_id": f"{10_000 + i:032x}", "request": f"late question {i}", "tool_path": ["search"],
             "status": "ok", "latency_ms": 900.0, "models": ["model-a"]} for i in range(100)]
    _load(con, late)
    after = {r["trace_id"] for r in _select(con)}
    # Each stratum's probability moves a little with the new counts; members leave only when their hash
    # falls between the old and the new probability.
    assert len(before & after) >= 0.85 * len(before)
    assert len(before - after) <= 0.15 * len(before)


def test_selection_caps_sessions_and_users(con) -> None:
    # planted defect: one heavy user with 900 traces in 3 sessions would dominate a proportional sample
    _load(con, [{"trace_id": f"{50_000 + i:032x}", "request": f"heavy question {i}", "tool_path": ["search"],
                 "status": "ok", "latency_ms": 500.0, "models": ["model-a"], "session_id": f"heavy-{i % 3}",
                 "user_id": "heavy"} for i in range(900)])
    uncapped = _select(con, dataclasses.replace(BASE, target_size=200))
    capped = _select(con, dataclasses.replace(BASE, target_size=200, max_per_user=6, max_per_session=4))
    heavy_uncapped = sum(r["user_id"] == "heavy" for r in uncapped)
    heavy = [r for r in capped if r["user_id"] == "heavy"]
    assert heavy_uncapped > 30
    assert len(heavy) <= 6 + 3 * 6 ** 0.5
    assert max(sum(r["session_id"] == f"heavy-{k}" for r in heavy) for k in range(3)) <= 4 + 3 * 2
    # capped records stand for more traffic: the weighted count still estimates the day
    sel = sampling.day_selection(con, DAY)
    assert sel.weight_sum == pytest.approx(sel.eligible_traces, abs=3 * sel.weight_sum_se)


def test_selection_latency_tiers_from_slo_thresholds(con) -> None:
    rows = _select(con, dataclasses.replace(BASE, latency_slo_ms=(1000, 5000)))
    for r in rows:
        expected = "<=1000ms" if r["latency_ms"] <= 1000 else "1000ms-5000ms" if r["latency_ms"] <= 5000 else ">5000ms"
        assert r["latency_tier"] == expected
    assert sampling.day_selection(con, DAY).latency_thresholds == [1000.0, 5000.0]


def test_selection_filters_narrow_the_slice(con) -> None:
    rows = _select(con, dataclasses.replace(BASE, filters=Filters(services=("billing",))))
    assert rows and {r["service_name"] for r in rows} == {"billing"}
    sel = sampling.day_selection(con, DAY)
    assert sel.filtered_out > 1000 and sel.eligible_traces + sel.filtered_out + sel.traces_without_request == 2003
    rows = _select(con, dataclasses.replace(BASE, filters=Filters(where="status = 'error' AND latency_ms > 100")))
    assert rows and {r["status"] for r in rows} == {"error"}
    assert _select(con, dataclasses.replace(BASE, filters=Filters(models=("other-model",)))) == []
    assert _select(con, dataclasses.replace(BASE, filters=Filters(end_date="2026-11-19"))) == []


@pytest.mark.parametrize("predicate", [
    "trace_id IN (SELECT trace_id FROM raw_traces)",  # reaches for unmasked data
    "TRUE); DROP TABLE masked_traces; SELECT (1",  # a second statement
    "TRUE) UNION SELECT * FROM raw_traces WHERE (TRUE",  # another table
    "status = ",  # not SQL
])
def test_selection_rejects_predicates_beyond_masked_traces(con, predicate: str) -> None:
    with pytest.raises(ValueError, match="sampling.filters.where"):
        _select(con, dataclasses.replace(BASE, filters=Filters(where=predicate)))
    assert con.execute("SELECT count(*) FROM masked_traces").fetchall()[0][0] == 2003


def test_selection_config_errors_are_sentences(con) -> None:
    with pytest.raises(ValueError, match="latency_quantiles must lie strictly between 0 and 1"):
        _select(con, dataclasses.replace(BASE, latency_quantiles=(0.5, 1.5)))
    with pytest.raises(ValueError, match="must be a date"):
        _select(con, dataclasses.replace(BASE, filters=Filters(start_date="yesterday")))


def test_selection_of_an_empty_day_is_empty(tmp_path: Path) -> None:
    with warehouse.connect(tmp_path / "empty.duckdb") as c:
        sel = sampling.select_day(c, DAY, BASE)
    assert (sel.records, sel.eligible_traces, sel.weight_sum) == (0, 0, 0)


def test_psi_is_zero_for_the_same_mix_and_grows_with_drift() -> None:
    assert drift.psi({"a": 10, "b": 30}, {"a": 100, "b": 300}) == pytest.approx(0.0)
    small = drift.psi({"a": 45, "b": 55}, {"a": 50, "b": 50})
    large = drift.psi({"a": 10, "b": 90}, {"a": 50, "b": 50})
    assert 0 < small < 0.1 < 0.25 < large
    assert drift.psi({"a": 1, "new": 1}, {"a": 1}) > 0.25  # a stratum appearing is drift


def test_daily_metrics_counts_traffic(con) -> None:
    con.execute("DELETE FROM daily_metrics")
    dashboards.write_daily_metrics(con, DAY)
    traces, error_rate, p50 = con.execute(
        "SELECT traces, error_rate, latency_p50_ms FROM daily_metrics").fetchall()[0]
    expected = con.execute("SELECT count(*), avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0 END), "
                           "median(latency_ms) FROM masked_traces").fetchall()[0]
    assert traces == expected[0] == 2003
    assert error_rate == pytest.approx(expected[1])
    assert p50 == pytest.approx(expected[2])


def test_sampling_config_reads_filters_tiers_and_checks_from_yaml(tmp_path: Path) -> None:
    from eval_pipeline.lib.config import load_config

    path = tmp_path / "eval.yaml"
    path.write_text("sampling:\n  latency_slo_ms: [1000, 5000]\n  max_per_user: 0\n"
                    "  filters:\n    services: [billing]\n    where: \"status = 'error'\"\n"
                    "dataset_checks:\n  psi_warn: 0.2\ndev_eval:\n  window_days: 14\n")
    c = load_config(path)
    assert c.sampling.latency_slo_ms == (1000, 5000) and c.sampling.max_per_user == 0
    assert c.sampling.filters == Filters(services=("billing",), where="status = 'error'")
    assert c.dataset_checks.psi_warn == 0.2 and c.dev_eval.window_days == 14
    assert sampling.tier_names(c.sampling) == ["1000ms", "5000ms"]
    path.write_text("sampling:\n  filters:\n    service: [billing]\n")  # typo: an error, never a silent default
    with pytest.raises(ValueError, match="Unknown setting"):
        load_config(path)
