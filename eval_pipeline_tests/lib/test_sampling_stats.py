"""Contract: the selection's weights make estimates unbiased for production. On a synthetic day with a known
error rate and known per-stratum pass rates (plus duplicates, a heavy user under the caps and rare strata
under the minimum), the weighted estimates averaged over many seeds land within three standard errors of
the truth, while the unweighted ones miss it by far; each stratum's realised size averages to the sum of
its inclusion probabilities, which checks the exact probability of the Poisson-plus-minimum draw. Both hold
with the sparse cells merged into strata (the default) and with every cell its own stratum."""

import dataclasses
import datetime as dt
import math
import random
import statistics
from pathlib import Path

import pyarrow as pa
import pytest

from eval_pipeline.lib import sampling, warehouse
from eval_pipeline.lib.config import Sampling

DAY = dt.date(2026, 11, 20)
SEEDS = 60
DESIGN = Sampling(target_size=150, min_per_stratum=3, error_oversample=4.0, latency_quantiles=(0.9,),
                  max_per_session=0, max_per_user=8)
# (tool path, share of traffic, pass rate when ok); error traces pass 20 % of the time on every path.
PATHS = [(["search"], 0.55, 0.92), (["search", "answer"], 0.30, 0.80), ([], 0.10, 0.97),
         (["lookup", "refund"], 0.045, 0.40), (["rare_tool"], 0.005, 0.10)]
ERROR_RATE, ERROR_PASS_RATE = 0.06, 0.2


def _population(n: int = 3000, seed: int = 11) -> tuple[list[dict], dict[str, bool]]:
    """Rows for masked_traces and, per trace, whether a judge would pass it (decided per request)."""
    rng = random.Random(seed)
    rows, passed = [], {}
    for i in range(n):
        path, _, ok_rate = rng.choices(PATHS, [p[1] for p in PATHS])[0]
        error = rng.random() < ERROR_RATE
        heavy = rng.random() < 0.2  # one user sends a fifth of the traffic
        row = {"trace_id": f"{i:032x}", "trace_date": DAY, "request": f"Question {i} about order {i * 7}",
               "tool_path": path, "status": "error" if error else "ok", "latency_ms": rng.lognormvariate(7, 1),
               "models": ["model-a"], "session_id": f"s{i // 6}", "user_id": "heavy" if heavy else f"u{i % 300}"}
        rows.append(row)
        passed[row["trace_id"]] = rng.random() < (ERROR_PASS_RATE if error else ok_rate)
        if rng.random() < 0.1:  # the same question again, typed differently: same outcome
            dup = {**row, "trace_id": f"d{i:031x}", "request": "  " + row["request"].upper()}
            rows.append(dup)
            passed[dup["trace_id"]] = passed[row["trace_id"]]
    return rows, passed


@pytest.fixture(scope="module", params=[DESIGN.merge_strata_below, 0.0], ids=["merged", "cells"])
def draws(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    design = dataclasses.replace(DESIGN, merge_strata_below=request.param)
    rows, passed = _population()
    errors = {r["trace_id"]: r["status"] == "error" for r in rows}
    out = {"truth_error": statistics.fmean(errors.values()), "truth_pass": statistics.fmean(passed.values()),
           "n": len(rows), "draws": [], "sizes": [], "expected": None}
    path: Path = tmp_path_factory.mktemp("stats") / "wh.duckdb"
    with warehouse.connect(path) as con:
        con.register("pop", pa.Table.from_pylist(rows))
        con.execute("INSERT INTO masked_traces BY NAME SELECT * FROM pop")
        for k in range(SEEDS):
            sampling.select_day(con, DAY, dataclasses.replace(design, seed=f"seed-{k}"))
            picked = con.execute("SELECT trace_id, weight FROM eval_dataset WHERE trace_date = $d",
                                 {"d": DAY}).fetchall()
            out["draws"].append(picked)
            out["sizes"].append(dict(con.execute(
                "SELECT stratum, records FROM eval_dataset_strata WHERE trace_date = $d", {"d": DAY}).fetchall()))
            expected = dict(con.execute("SELECT stratum, expected_records FROM eval_dataset_strata "
                                        "WHERE trace_date = $d", {"d": DAY}).fetchall())
            # The strata and their probabilities do not depend on the seed; only the draw does.
            assert out["expected"] in (None, pytest.approx(expected))
            out["expected"] = expected
    out["errors"], out["passed"], out["merged"] = errors, passed, design.merge_strata_below > 0
    return out


def _mean_se(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values))


def _estimates(d: dict, outcome: dict[str, bool]) -> dict[str, list[float]]:
    ht, hajek, unweighted = [], [], []
    for picked in d["draws"]:
        total_w = sum(w for _, w in picked)
        hit_w = sum(w for t, w in picked if outcome[t])
        ht.append(hit_w / d["n"])  # Horvitz-Thompson: the known day total in the denominator
        hajek.append(hit_w / total_w)  # what the dashboards compute
        unweighted.append(sum(outcome[t] for t, _ in picked) / len(picked))
    return {"horvitz_thompson": ht, "hajek": hajek, "unweighted": unweighted}


@pytest.mark.slow
@pytest.mark.parametrize("target", ["error", "pass"])
def test_weighted_estimates_are_unbiased_and_unweighted_are_not(draws: dict, target: str) -> None:
    truth = draws[f"truth_{target}"]
    est = _estimates(draws, draws["errors" if target == "error" else "passed"])
    for name in ("horvitz_thompson", "hajek"):
        mean, se = _mean_se(est[name])
        assert abs(mean - truth) <= 3 * se, (name, mean, se, truth)
    mean, se = _mean_se(est["unweighted"])
    assert abs(mean - truth) > 10 * se, ("unweighted", mean, se, truth)


@pytest.mark.slow
def test_weighted_count_estimates_the_day(draws: dict) -> None:
    mean, se = _mean_se([sum(w for _, w in picked) for picked in draws["draws"]])
    assert abs(mean - draws["n"]) <= 3 * se


@pytest.mark.slow
def test_stratum_sizes_average_to_their_inclusion_probabilities(draws: dict) -> None:
    strata = draws["expected"]
    if not draws["merged"]:
        assert any(e < 3.5 for e in strata.values())  # strata drawn through their minimum
    else:
        assert any(s.startswith("(rare paths)") for s in strata) and len(strata) < 12
    for stratum, expected in strata.items():
        sizes = [s.get(stratum, 0) for s in draws["sizes"]]
        mean = statistics.fmean(sizes)
        se = max(statistics.stdev(sizes), 0.5) / math.sqrt(len(sizes))  # a floor for strata drawn whole
        assert abs(mean - expected) <= 4 * se, (stratum, mean, expected, se)
