"""Contract: the dev-eval window is the configured number of days ending on its day (an empty window is a
sentence, not a crash), and the days of a window without a selected eval dataset are named."""

import datetime as dt
from pathlib import Path

import pytest

from eval_pipeline.lib import dev_eval, warehouse

END = dt.date(2026, 11, 20)


def test_dev_eval_window_start_counts_the_end_day_and_rejects_an_empty_window() -> None:
    assert dev_eval.window_start(END, 1) == END
    assert dev_eval.window_start(END, 14) == dt.date(2026, 11, 7)
    with pytest.raises(ValueError, match="dev_eval.window_days must be at least 1, got 0"):
        dev_eval.window_start(END, 0)


def test_dev_eval_days_without_dataset_names_the_gaps(tmp_path: Path) -> None:
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        # planted gap: the selection ran on the 18th and the 20th only
        con.executemany("INSERT INTO eval_dataset_days (trace_date, traces) VALUES (?, 0)",
                        [[dt.date(2026, 11, 18)], [END]])
        assert dev_eval.days_without_dataset(con, dt.date(2026, 11, 17), END) == ["2026-11-17", "2026-11-19"]
        assert dev_eval.days_without_dataset(con, END, END) == []
