"""Contract (issue 11, done when): ten steady days of the demo's sample traffic (eval_pipeline.synthetic at the
demo's size, about a hundred traces a day, the same mix every day) run through `eval-pipeline run` raise no ERROR
check and exit 0: the stratum mix, traffic and regression checks that used to fail on such days (PSI over sparse
strata) stay quiet, and so does every other check at its default threshold. A day whose error rate jumps from
the steady rate to 30 % then exits 1 naming the failing check in the closing lines, and that day's report shows
the check and example failing traces at the top of the page."""

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from eval_pipeline import cli, synthetic
from eval_pipeline.lib.dashboard_checks import JUDGE_REGRESSION

pytestmark = pytest.mark.slow

START = dt.date(2026, 11, 1)
DAYS = 10
SHIFTED = START + dt.timedelta(days=DAYS)


def test_ten_steady_days_exit_0_and_an_error_rate_jump_exits_1_naming_the_check(
        pipeline_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    synthetic.generate(pipeline_env["landing"] / "steady", START, DAYS, sessions_per_day=30, seed=11)
    synthetic.generate(pipeline_env["landing"] / "shifted", SHIFTED, 1, sessions_per_day=30, seed=12,
                       error_rate=0.30)

    assert cli.main(["run", START.isoformat(), (SHIFTED - dt.timedelta(days=1)).isoformat()]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith(f"OK: {DAYS} day(s) ran, no ERROR check failed")
    assert sum(f": ok in " in ln for ln in lines) == DAYS

    assert cli.main(["run", SHIFTED.isoformat()]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith(f"FAILED: 1 of 1 day(s): {SHIFTED}") and JUDGE_REGRESSION in lines[-1]
    (listed,) = [ln for ln in lines if f"{JUDGE_REGRESSION} on" in ln]
    assert "no_error" in listed  # the figure names the judge whose pass rate fell

    with duckdb.connect(str(pipeline_env["warehouse"]), read_only=True) as con:
        errors_today = {r[0] for r in con.execute(
            "SELECT trace_id FROM eval_dataset WHERE trace_date = ? AND status = 'error'", [SHIFTED]).fetchall()}
    assert len(errors_today) >= 10
    page = (pipeline_env["reports"] / "daily" / f"{SHIFTED}.html").read_text()
    top = page[page.index('id="what-changed"'):page.index("<h2>Strata that moved most</h2>")]
    assert JUDGE_REGRESSION in top and "no_error" in top
    shown = set(re.findall(r"\b[0-9a-f]{32}\b", top))
    assert shown and shown <= errors_today  # example traces behind the drop: failing ones only
