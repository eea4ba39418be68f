"""Contract of the verdict module: every unknown reason is defined once and falls in exactly one group
(the judge was not asked, or it was asked and gave no answer), and a Verdict fills every column of
judge_scores but the day and the time."""

from pathlib import Path

from eval_pipeline.lib import warehouse
from eval_pipeline.lib.judging import verdict


def test_unknown_reasons_fall_in_exactly_one_group():
    assert not set(verdict.NOT_ASKED) & set(verdict.NO_ANSWER)
    assert set(verdict.UNKNOWN_REASONS) == set(verdict.NOT_ASKED) | set(verdict.NO_ANSWER)
    assert len(verdict.UNKNOWN_REASONS) == len(set(verdict.UNKNOWN_REASONS))
    assert set(verdict.CALL_FAILURES) <= set(verdict.NO_ANSWER)
    constants = {value for name, value in vars(verdict).items() if name.isupper() and isinstance(value, str)}
    assert constants == set(verdict.UNKNOWN_REASONS)  # no reason defined outside the groups


def test_verdict_fills_every_judge_scores_column_but_day_and_time(tmp_path: Path):
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        columns = [name for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'judge_scores'").fetchall()]
    assert set(columns) - set(verdict.SCORE_COLUMNS) == {"trace_date", "scored_at"}
    assert set(verdict.SCORE_COLUMNS) <= set(columns)
