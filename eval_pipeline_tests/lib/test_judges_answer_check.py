"""Contract: judges_answer_and_cost_stable is an ERROR when a judge's every call failed (the provider never
answered: a day that must not read as ok), and stays a warning, or quiet, otherwise: some calls answered, the
judge abstaining, no model configured."""

import datetime as dt
from pathlib import Path

import pytest

from eval_pipeline.lib import warehouse
from eval_pipeline.lib.check_results import ERROR, WARN
from eval_pipeline.lib.config import Monitoring
from eval_pipeline.lib.dashboard_checks import judges_answer_and_cost_stable

DAY = dt.date(2026, 11, 20)


def _check(tmp_path: Path, verdicts: list[tuple[str, str | None]]):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        for i, (verdict, reason) in enumerate(verdicts):
            con.execute("INSERT INTO judge_scores (trace_id, trace_date, judge, verdict, unknown_reason, cost_usd) "
                        "VALUES ($t, $d, 'relevance', $v, $r, 0.0)", {"t": f"t{i}", "d": DAY, "v": verdict, "r": reason})
        return judges_answer_and_cost_stable(con, DAY, Monitoring())


def test_judges_answer_every_call_failed_is_an_error(tmp_path: Path) -> None:
    # planted: the provider refused every call (a wrong key or model name)
    o = _check(tmp_path, [("unknown", "call_failed")] * 20 + [("unknown", "retries_exhausted")] * 5)
    assert (o.passed, o.severity, o.status) == (False, ERROR, "failed")
    assert o.figures["judges_every_call_failed"] == ["relevance"] and "every call failed" in o.description


@pytest.mark.parametrize(("verdicts", "passed"), [
    ([("pass", None)] * 15 + [("unknown", "call_failed")] * 10, False),  # some answered: a warning only
    ([("unknown", "judge_abstained")] * 10, False),  # the judge answered that it could not tell: a warning
    ([("unknown", "no_model_configured")] * 10, True),  # no model: nothing was asked, nothing to report
    ([("pass", None)] * 19 + [("unknown", "timeout")], True),  # under the unknown-rate limit
])
def test_judges_answer_without_a_total_failure_is_never_an_error(tmp_path: Path, verdicts: list, passed: bool) -> None:
    o = _check(tmp_path, verdicts)
    assert o.passed is passed
    assert o.severity == WARN
