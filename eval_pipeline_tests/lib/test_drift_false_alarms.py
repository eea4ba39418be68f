"""Contract: the drift and regression rules have a known false-alarm rate. Over 31 stationary simulated days
(1,500 traces a day, 5 % errors, one question repeated by 4 % of the day, duplicates differing in outcome;
eval_pipeline_tests.support.sim_days), each taken through the real selection, judging rows and dashboard
tables and compared with its trailing 7 days at the default thresholds, neither the stratum-mix rule
(stratum_mix_stable), the traffic rule (traffic_no_drift) nor the regression rule
(judge_pass_rate_no_regression) raises an ERROR alarm. A planted shift of the tool-path mix, of the error
rate or of a judge's pass rate raises the alarm, and the alarm names what moved."""

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest

from eval_pipeline.lib import dashboards, sampling, warehouse
from eval_pipeline.lib.config import DatasetChecks, Monitoring, Sampling
from eval_pipeline_tests.support import sim_days
from eval_pipeline_tests.support import simulate as sim

START = dt.date(2026, 1, 1)
STEADY = Sampling(seed="steady")
CHECKS, MONITORING = DatasetChecks(), Monitoring()


def _alarms(con, day: dt.date) -> dict[str, list[str]]:
    """What each rule says about ``day`` at the default thresholds: ERROR alarms and warnings."""
    shift = sampling.stratum_shift(con, day, CHECKS)
    level = shift.level(CHECKS.psi_warn, CHECKS.psi_error, CHECKS.alpha)
    traffic, _ = dashboards.traffic_drift(con, day, MONITORING)
    drops, _ = dashboards.judge_regressions(con, day, MONITORING)
    stratum = [shift.sentence("stratum mix shifted", CHECKS.psi_warn)] if level else []
    return {"error": ([*stratum] if level == "error" else []) + traffic.errors + drops,
            "warn": ([*stratum] if level == "warn" else []) + traffic.warnings}


def _steady_days(con, days: int) -> None:
    for k in range(days):
        sim_days.run_day(con, np.random.default_rng(1000 + k), START + dt.timedelta(days=k), s=STEADY)


@pytest.mark.slow
def test_stationary_days_raise_no_error_alarm(tmp_path: Path) -> None:
    errors, warnings = {}, {}
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        _steady_days(con, 38)
        for k in range(7, 38):  # 31 days, each with a full trailing week
            day = START + dt.timedelta(days=k)
            found = _alarms(con, day)
            errors[day], warnings[day] = found["error"], found["warn"]
    assert len(errors) == 31
    assert not any(errors.values()), {d: e for d, e in errors.items() if e}
    assert sum(bool(w) for w in warnings.values()) <= 2, {d: w for d, w in warnings.items() if w}


@pytest.fixture(scope="module")
def steady_week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("steady") / "wh.duckdb"
    with warehouse.connect(path) as con:
        _steady_days(con, 8)
    return path


def _shifted_day(steady_week: Path, tmp_path: Path, **shift) -> dict[str, list[str]]:
    path = tmp_path / "wh.duckdb"
    shutil.copy(steady_week, path)
    day = START + dt.timedelta(days=8)
    with warehouse.connect(path) as con:
        sim_days.run_day(con, np.random.default_rng(7), day, s=STEADY, **shift)
        return _alarms(con, day)


@pytest.mark.slow
def test_a_shift_of_the_tool_path_mix_is_named(steady_week: Path, tmp_path: Path) -> None:
    # planted: a quarter of the day's traffic suddenly goes through lookup > refund (4.5 % before)
    found = _shifted_day(steady_week, tmp_path, reroute=0.25)
    traffic = [e for e in found["error"] if e.startswith("tool-path mix shifted")]
    assert traffic and traffic[0].split("moved most: ")[1].startswith("lookup > refund")
    stratum = [e for e in found["error"] if e.startswith("stratum mix shifted")]
    assert stratum and stratum[0].split("moved most: ")[1].startswith("lookup>refund | ok")


@pytest.mark.slow
def test_a_jump_of_the_error_rate_is_named(steady_week: Path, tmp_path: Path) -> None:
    # planted: the error rate triples, 5 % -> 15 %
    found = _shifted_day(steady_week, tmp_path, design=sim.DayDesign(error_rate=0.15))
    assert any(w.startswith("error rate") for w in found["warn"]), found
    # the no_error judge's pass rate drops with it: a regression, named after the judge
    assert any(e.startswith("no_error:") for e in found["error"]), found
    stratum = [a for a in found["warn"] + found["error"] if a.startswith("stratum mix shifted")]
    assert stratum and "| error |" in stratum[0].split("moved most: ")[1].split(",")[0]


@pytest.mark.slow
def test_a_drop_of_a_judges_pass_rate_is_named(steady_week: Path, tmp_path: Path) -> None:
    # planted: the LLM judge fails a quarter of what it passed before; the traffic does not change
    found = _shifted_day(steady_week, tmp_path, llm_pass_shift=-0.25)
    assert found["error"] and all(e.startswith(f"{sim_days.LLM_JUDGE}") for e in found["error"]), found
    assert found["error"][0].startswith(f"{sim_days.LLM_JUDGE}: ")
