"""Contract: the drift statistics behave (PSI zero for equal mixes, large for a shifted one; the mix comparison
on populated, smoothed bins stays quiet on noise from small days and names the bins that moved; the chi-square
tail and Holm's correction are right; the pass-rate test flags a real drop and not noise), and the regression
rows + test find a planted drop per judge and per stratum in a warehouse while leaving stable judges alone;
the traffic drift rule flags a planted shift of the tool-path mix, error rate, p95 and cost and stays quiet
on unchanged traffic and on an error-rate jump that small counts explain."""

import datetime as dt
import os
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from eval_pipeline.lib import drift, estimates, pricing, warehouse
from eval_pipeline.lib.config import Monitoring
from eval_pipeline.lib.judging.verdict import CALL_FAILURES, NO_ANSWER
from eval_pipeline.lib.warehouse import load_sql

DAY = dt.date(2026, 11, 20)


def test_psi_zero_for_equal_mix_and_large_for_a_shift() -> None:
    assert drift.psi({"a": 50, "b": 50}, {"a": 5, "b": 5}) == pytest.approx(0.0)
    assert drift.psi({"a": 90, "b": 10}, {"a": 50, "b": 50}) > 0.25
    assert 0 < drift.psi({"a": 50, "b": 50}, {"a": 55, "b": 45}) < 0.1
    assert drift.psi({"a": 1}, {"b": 1}) > 1  # a new category is a shift, not a crash


def test_chi2_sf_matches_the_tables() -> None:
    # 99th percentiles of chi-square: 6.635 (1 df), 9.210 (2), 15.086 (5), 23.209 (10), 50.892 (30)
    for x, df in ((6.635, 1), (9.210, 2), (15.086, 5), (23.209, 10), (50.892, 30)):
        assert drift.chi2_sf(x, df) == pytest.approx(0.01, rel=0.05)
    assert drift.chi2_sf(0.0, 4) == 1.0


def test_holm_rejects_step_down_and_controls_the_family() -> None:
    assert drift.holm([0.001, 0.04, 0.02], alpha=0.05) == [True, True, True]  # .001 < .05/3, .02 < .05/2, .04 < .05
    assert drift.holm([0.001, 0.04, 0.03], alpha=0.05) == [True, False, False]  # .03 >= .05/2: stop
    assert drift.holm([0.02, 0.03, 0.04], alpha=0.05) == [False, False, False]  # 0.02 >= .05/3: stop
    assert drift.holm([], alpha=0.05) == []


def test_mix_shift_is_quiet_on_the_same_mix_and_on_small_day_noise() -> None:
    mix = {("search", "ok", "<=p50", "m"): 700.0, ("answer", "ok", "<=p50", "m"): 250.0,
           ("search", "error", "<=p50", "m"): 50.0}
    same = drift.mix_shift({k: 7 * v for k, v in mix.items()}, mix, min_count=20)
    assert same.psi == pytest.approx(0.0, abs=1e-12) and same.p_value == pytest.approx(1.0)
    assert same.level(0.1, 0.25, 0.01) is None
    # a 40-trace day: one trace here or there swings PSI over sparse bins; populated bins and the test hold
    small = {("search", "ok", "<=p50", "m"): 24.0, ("answer", "ok", "<=p50", "m"): 11.0,
             ("search", "error", "<=p50", "m"): 5.0}
    noisy = drift.mix_shift({k: 7 * v for k, v in mix.items()}, small, min_count=20)
    assert noisy.bins < len(mix) + 1 and noisy.level(0.1, 0.25, 0.01) is None


def test_mix_shift_names_what_moved() -> None:
    before = {("search", "ok", "<=p50", "m"): 7000.0, ("refund", "ok", "<=p50", "m"): 700.0,
              ("search", "error", "<=p50", "m"): 300.0}
    today = {("search", "ok", "<=p50", "m"): 600.0, ("refund", "ok", "<=p50", "m"): 350.0,
             ("search", "error", "<=p50", "m"): 50.0}
    shift = drift.mix_shift(before, today, min_count=20)
    assert shift.level(0.1, 0.25, 0.01) == "error" and shift.p_value < 1e-6
    assert shift.movers[0][0] == "refund | ok | <=p50 | m"
    assert shift.movers[0][1] == pytest.approx(700 / 8000, abs=0.01) and shift.movers[0][2] == pytest.approx(0.35, abs=0.01)
    assert "refund | ok | <=p50 | m 8.8% -> 35.0%" in shift.sentence("stratum mix shifted", 0.25)


def test_compare_rates_flags_a_drop_but_not_noise() -> None:
    drop = drift.compare_rates(0.80, 400, 0.95, 2000)
    assert drop.p_value < 0.001 and drop.ci_high < 0
    noise = drift.compare_rates(0.94, 400, 0.95, 2000)
    assert noise.p_value > 0.1
    up = drift.compare_rates(0.99, 400, 0.95, 2000)
    assert up.p_value > 0.5  # one-sided: an improvement is never a regression
    assert drift.compare_rates(0.9, 0, 0.9, 10) is None


def _scores(rates: dict[tuple[str, str], dict[dt.date, float]], n: int = 300) -> tuple[list[dict], list[dict]]:
    rng = random.Random(1)
    scores, records = [], []
    for (judge, stratum), by_day in rates.items():
        for day, rate in by_day.items():
            for i in range(n):
                tid = f"{judge}-{stratum}-{day}-{i}"
                if judge == "no_error":
                    records.append({"trace_id": tid, "trace_date": day, "stratum": stratum, "weight": 1.0})
                scores.append({"trace_id": tid if judge == "no_error" else tid.replace(judge, "no_error"),
                               "trace_date": day, "judge": judge,
                               "verdict": "pass" if rng.random() < rate else "fail"})
    return scores, records


def test_pass_rate_regressions_find_a_planted_drop(tmp_path: Path) -> None:
    days = [DAY - dt.timedelta(days=k) for k in range(8)]
    base = {d: 0.95 for d in days}
    rates = {
        ("no_error", "search | ok"): {**base, DAY: 0.95},
        ("no_error", "refund | ok"): {**base, DAY: 0.55},  # defect: one stratum collapses today
        ("relevance", "search | ok"): dict(base),
        ("relevance", "refund | ok"): dict(base),
    }
    scores, records = _scores(rates)
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        con.register("s", pa.Table.from_pylist(scores))
        con.register("r", pa.Table.from_pylist(records))
        con.execute("INSERT INTO judge_scores BY NAME SELECT * FROM s")
        con.execute("INSERT INTO eval_dataset BY NAME SELECT * FROM r")
        rows = estimates.rate_rows(con, DAY)
    drops, compared = drift.pass_rate_regressions(rows, alpha=0.01, min_baseline_days=3, min_effective_n=30)
    assert len(compared) == 6  # two judges overall + two strata each
    assert [d.split(":")[0] for d in drops] == ["no_error", "no_error [refund | ok]"]
    assert "95 % interval" in drops[0]
    quiet, _ = drift.pass_rate_regressions(rows, alpha=0.01, min_baseline_days=9, min_effective_n=30)
    assert quiet == []  # not enough baseline days: nothing is compared


def test_judge_unknowns_counts_only_calls_that_gave_no_answer(tmp_path: Path) -> None:
    rows = ([("pass", None)] * 6 + [("unknown", "timeout"), ("unknown", "unparseable")]
            + [("unknown", "no_context")] * 2 + [("unknown", "not_sampled")])
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        con.executemany("INSERT INTO judge_scores (trace_id, trace_date, judge, verdict, unknown_reason, cost_usd) "
                        "VALUES (?, ?, 'groundedness', ?, ?, 0.001)",
                        [[f"t{i}", DAY, v, r] for i, (v, r) in enumerate(rows)])
        params = {"day": DAY, "no_answer_reasons": list(NO_ANSWER), "call_failure_reasons": list(CALL_FAILURES)}
        [(judge, unknown_rate, cost, base, every_call_failed)] = con.execute(
            load_sql("dashboards/judge_unknowns"), params).fetchall()
    assert judge == "groundedness"
    assert not every_call_failed  # one timeout among answered calls
    assert unknown_rate == pytest.approx(2 / 8)  # no_context / not_sampled: not asked, so left out
    assert cost == pytest.approx(0.001) and base is None


def test_agent_cost_prices_known_models_and_lists_the_others() -> None:
    cost, unpriced = pricing.agent_cost([("gpt-4o-mini", 1_000_000, 1_000_000), ("openai/gpt-4o", 1000, 0),
                                         ("in-house-model-7b", 500, 500)])
    per_in, per_out = pricing.price("gpt-4o-mini")
    assert per_in > 0 and per_out > per_in  # litellm's map: output tokens cost more
    assert cost == pytest.approx(1_000_000 * (per_in + per_out) + 1000 * pricing.price("gpt-4o")[0])
    assert unpriced == ["in-house-model-7b"]


def test_pricing_does_not_import_litellm() -> None:
    code = ("import sys; from eval_pipeline.lib import pricing; pricing.price('gpt-4o'); "
            "print('litellm' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


def test_pricing_bare_name_from_a_provider_prefixed_entry() -> None:
    assert pricing.price("databricks-claude-sonnet-4") == pricing.price("databricks/databricks-claude-sonnet-4")
    assert pricing.price("no-such-model-anywhere") is None


def _figures(**today: float) -> dict[str, float | None]:
    """The columns of sql/dashboards/traffic_baseline.sql: today's figures (default: the baseline's) and
    their trailing means."""
    base = {"error_rate": 0.05, "latency_p95_ms": 2000.0, "cost_per_trace": 0.001}
    return {**{k: today.get(k, v) for k, v in base.items()}, "error_rate_baseline": 0.05,
            "latency_p95_baseline": 2000.0, "cost_per_trace_baseline": 0.001}


def test_traffic_drift_flags_planted_shifts_and_stays_quiet_on_the_same_traffic() -> None:
    m = Monitoring()
    mix = {"search": 700.0, "search > answer": 250.0, "(no tools)": 50.0}
    quiet = drift.traffic_drift(mix, {k: 7 * v for k, v in mix.items()}, _figures(), m)
    assert quiet == drift.TrafficDrift(pytest.approx(0.0), [], [])
    # planted: every trace goes through a new tool, errors triple, p95 doubles, the agent's cost triples
    shifted = drift.traffic_drift({"new_tool": 1000.0}, mix, _figures(error_rate=0.15, latency_p95_ms=4000.0,
                                                                      cost_per_trace=0.003), m)
    assert shifted.tool_path_psi > m.psi_error and shifted.errors[0].startswith("tool-path mix shifted")
    assert [w.split(" ")[0] for w in shifted.warnings] == ["error", "latency", "agent"]
    missing = drift.traffic_drift(mix, mix, {**_figures(), "error_rate": None, "cost_per_trace_baseline": None}, m)
    assert missing.errors == missing.warnings == []  # a figure missing on one side is not a jump
    # 3 errors in 30 traces against 5 % over 7 days: over 2x, but small counts explain it, so no warning
    few = drift.traffic_drift(mix, mix, {**_figures(error_rate=0.1), "traces": 30, "baseline_traces": 7000}, m)
    assert few.warnings == []
    many = drift.traffic_drift(mix, mix, {**_figures(error_rate=0.15), "traces": 1000, "baseline_traces": 7000}, m)
    assert [w.split(" ")[0] for w in many.warnings] == ["error"]


def test_pass_rate_regressions_name_each_comparison_once() -> None:
    rows = [("relevance", None, True, 0.80, 400, 1), ("relevance", None, False, 0.95, 2000, 7),
            ("relevance", "a | ok", True, 0.94, 200, 1), ("relevance", "a | ok", False, 0.95, 1000, 7)]
    drops, compared = drift.pass_rate_regressions(rows, alpha=0.01, min_baseline_days=3, min_effective_n=30)
    assert [(c.where, c.regressed) for c in compared] == [("relevance", True), ("relevance [a | ok]", False)]
    assert drops == [compared[0].sentence] and drops[0].startswith("relevance: 80.0% vs 95.0%")
