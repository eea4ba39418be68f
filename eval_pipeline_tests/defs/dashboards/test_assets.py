"""Contract: the dashboards asset writes each day's daily_metrics row once, with the agent's LLM cost priced
from the day's token usage; the daily report and the judge_pass_rate_no_regression check apply one regression
rule, so the report's regressions are the check's on a day with a planted drop and on a steady day (where both
stay quiet, as does traffic_no_drift on unchanged traffic)."""

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from eval_pipeline.defs.dashboards import assets, checks
from eval_pipeline.lib import dashboards, pricing, warehouse
from eval_pipeline.resources import Settings, Warehouse

DAY = dt.date(2026, 11, 20)
DAYS = [DAY - dt.timedelta(days=k) for k in range(7, -1, -1)]
STRATA = ("search | ok", "refund | ok")
USAGE = [{"model": "gpt-4o-mini", "input_tokens": 1000, "output_tokens": 200},
         {"model": "in-house-model-7b", "input_tokens": 50, "output_tokens": 5}]


def _seed(db: Path, today_refund_rate: float, n: int = 300) -> None:
    """Eight days of 2 x 300 records judged by two judges, 95 % pass everywhere; today the no_error judge
    passes ``today_refund_rate`` of the refund stratum. Passes are counted out exactly, so a steady day has
    exactly its baseline's rate."""
    traces, records, scores = [], [], []
    for day in DAYS:
        for stratum in STRATA:
            for i in range(n):
                tid = f"{day:%m%d}-{stratum[:6]}-{i:04d}"
                traces.append({"trace_id": tid, "trace_date": day, "status": "ok", "latency_ms": 100.0 + i,
                               "tool_path": [stratum.split(" ")[0]], "model_usage": USAGE})
                records.append({"trace_id": tid, "trace_date": day, "stratum": stratum, "weight": 1.0})
                for judge in ("no_error", "relevance"):
                    rate = today_refund_rate if (day, judge, stratum) == (DAY, "no_error", "refund | ok") else 0.95
                    scores.append({"trace_id": tid, "trace_date": day, "judge": judge,
                                   "verdict": "pass" if i < round(rate * n) else "fail", "cost_usd": 0.0})
    with warehouse.connect(db) as con:
        for table, rows in (("masked_traces", traces), ("eval_dataset", records), ("judge_scores", scores)):
            con.register("rows", pa.Table.from_pylist(rows))
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows")  # noqa: S608 - fixed names
            con.unregister("rows")
        for day in DAYS[:-1]:
            dashboards.rebuild_day(con, day)


def _run(day: dt.date) -> dg.ExecuteInProcessResult:
    return dg.materialize([assets.dashboards, assets.daily_report, checks.judge_pass_rate_no_regression,
                           checks.traffic_no_drift], partition_key=day.isoformat(),
                          resources={"warehouse": Warehouse(), "settings": Settings()})


def _check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    [found] = [e.asset_check_evaluation_data for e in result.all_events
               if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.asset_check_evaluation_data.check_name == name]
    return found


@pytest.mark.parametrize("today_refund_rate", [0.55, 0.95], ids=["planted_drop", "steady"])
def test_daily_report_regressions_equal_the_checks(pipeline_env: dict[str, Path], today_refund_rate: float) -> None:
    _seed(pipeline_env["warehouse"], today_refund_rate)
    result = _run(DAY)
    assert result.success
    check = _check(result, "judge_pass_rate_no_regression")
    from_check = check.metadata["regressions"].value
    from_report = result.asset_materializations_for_node("daily_report")[0].metadata["regressions"].value
    assert from_report == from_check
    assert check.metadata["compared"].value == 6  # two judges, overall and in two strata each
    page = (pipeline_env["reports"] / "daily" / f"{DAY}.html").read_text(encoding="utf-8")
    if today_refund_rate < 0.95:
        # the planted drop: the refund stratum, and no_error overall (its rate falls from 95 % to 75 %)
        assert [r.split(":")[0] for r in from_check] == ["no_error", "no_error [refund | ok]"]
        assert not check.passed and 'class="regression"' in page and "regression</span>" in page
    else:
        assert from_check == [] and check.passed
        assert 'class="regression"' not in page and "regression</span>" not in page
        assert _check(result, "traffic_no_drift").passed  # unchanged traffic: no false alarm


def test_dashboards_write_the_days_metrics_once_with_the_agents_cost(pipeline_env: dict[str, Path]) -> None:
    _seed(pipeline_env["warehouse"], 0.95)
    [meta] = [m.metadata for m in _run(DAY).asset_materializations_for_node("dashboards")
              if m.asset_key == dg.AssetKey("daily_metrics")]
    cost, unpriced = pricing.agent_cost([(u["model"], 600 * u["input_tokens"], 600 * u["output_tokens"])
                                         for u in USAGE])
    assert cost > 0 and unpriced == ["in-house-model-7b"]
    with duckdb.connect(str(pipeline_env["warehouse"]), read_only=True) as con:
        rows = con.execute("SELECT traces, agent_cost_usd, unpriced_models FROM daily_metrics "
                           "WHERE trace_date = $d", {"d": DAY}).fetchall()
    assert len(rows) == 1 and rows[0][0] == 600
    assert rows[0][1] == pytest.approx(cost) and rows[0][2] == unpriced
    assert meta["agent_cost_usd"].value == round(cost, 6) and meta["unpriced_models"].value == unpriced
    assert meta["agent_cost_per_trace_usd"].value == pytest.approx(cost / 600, abs=1e-8)
