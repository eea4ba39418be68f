"""Contract of the judge estimates (eval_pipeline.lib.estimates, the figures of daily_judge_results and
daily_judge_strata): verdict counts, spend and unpriced calls per judge and stratum; the weighted pass rate is
lib.stats' ratio estimate over 1 / inclusion probability, unknown verdicts left out and never a pass; and,
through the project's real selection SQL (one record per drawn trace) and this code, on 500 simulated days of
the issue's traffic whose duplicates differ in outcome (1,500 traces, 5 % errors, one question repeated by 4 %
of the day), the 95 % intervals hold the day's true rate on 93-97 % of days, for the code judge no_error and
for an LLM judge whose verdict depends on the response. (At 200 days the binomial noise of a coverage figure
alone is 1.5 points; bench/stats_coverage.py --warehouse-days 1000 runs the same loop longer.)"""

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from eval_pipeline.lib import estimates, sampling, stats, warehouse
from eval_pipeline.lib.config import Sampling
from eval_pipeline_tests.support import sim_days

DAY = dt.date(2026, 11, 20)
BAND = (0.93, 0.97)


def _insert(con, table: str, rows: list[dict]) -> None:
    con.register("rows", pa.Table.from_pylist(rows))
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows")  # noqa: S608 - fixed names
    con.unregister("rows")


def test_day_figures_count_verdicts_weigh_rates_and_flag_unpriced_spend(tmp_path: Path) -> None:
    records = [{"trace_id": f"t{i}", "trace_date": DAY, "stratum": "a | ok" if i < 4 else "b | ok",
                "weight": w, "inclusion_probability": 1 / w} for i, w in enumerate([2.0, 2.0, 4.0, 4.0, 1.0, 1.0])]
    verdicts = ["pass", "fail", "pass", "unknown", "pass", "fail"]
    scores = [{"trace_id": f"t{i}", "trace_date": DAY, "judge": "relevance", "verdict": v, "cost_usd": 0.01,
               "input_tokens": 100} for i, v in enumerate(verdicts)]
    scores[5].update(cost_usd=None)  # planted: an answered call without a price
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        _insert(con, "eval_dataset", records)
        _insert(con, "judge_scores", scores)
        estimates.write_day(con, DAY)
        [judge], strata = estimates.day_figures(con, DAY)
        stored = con.sql("SELECT * FROM daily_judge_results").pl().to_dicts()
    assert (judge["judged"], judge["passed"], judge["failed"], judge["unknown"]) == (6, 3, 2, 1)
    known = [(1, 2.0), (0, 2.0), (1, 4.0), (1, 1.0), (0, 1.0)]  # the unknown record is left out
    expected = stats.weighted_rate([y for y, _ in known], [w for _, w in known], pi=[1 / w for _, w in known])
    assert judge["weighted_pass_rate"] == pytest.approx(7 / 10) == pytest.approx(expected.value)
    assert (judge["ci_low"], judge["ci_high"], judge["n_eff"]) == pytest.approx((expected.low, expected.high,
                                                                                 expected.n_eff))
    assert judge["spend_usd"] == pytest.approx(0.05) and judge["unpriced_calls"] == 1
    assert [(s["stratum"], s["judged"]) for s in strata] == [("a | ok", 4), ("b | ok", 2)]
    assert stored[0]["unpriced_calls"] == 1 and stored[0]["ci_low"] == pytest.approx(expected.low)


@pytest.mark.slow
def test_estimates_cover_the_true_rate_through_the_real_selection(tmp_path: Path) -> None:
    hits: dict[str, list[bool]] = {}
    day = dt.date(2026, 1, 1)
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        for k in range(500):
            loaded = sim_days.load_day(con, np.random.default_rng(k), day)
            sampling.select_day(con, day, Sampling(seed=f"coverage-{k}"))
            sim_days.judge_day(con, day)
            for judge, (truth, low, high) in sim_days.covered(con, loaded).items():
                hits.setdefault(judge, []).append(low <= truth <= high)
    coverage = {judge: float(np.mean(h)) for judge, h in hits.items()}
    assert set(coverage) == {"no_error", sim_days.LLM_JUDGE}
    assert all(BAND[0] <= c <= BAND[1] for c in coverage.values()), coverage
