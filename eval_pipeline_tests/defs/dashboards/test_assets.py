"""Contract: the dashboards asset writes each day's daily_metrics row once, with the agent's LLM cost priced
from the day's token usage, and evaluates the dashboard checks in its own step, recording their outcomes in
check_results before the report starts; the daily report and the judge_pass_rate_no_regression check apply
one regression rule, so the report's regressions are the check's on a day with a planted drop (shown at the
top with example failing records from masked tables, never a raw trace's text) and on a steady day (where
both stay quiet, as does traffic_no_drift on unchanged traffic). The report reads the other checks' latest
outcomes of its day from the Dagster instance: one that raised has no result, never a pass."""

import datetime as dt
import json
import re
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
RAW_EMAIL = "planted.raw@example.org"
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
                records.append({"trace_id": tid, "trace_date": day, "stratum": stratum, "weight": 1.0,
                                "request": f"{stratum[:6]} order {i}, write to <EMAIL:{i:08x}>", "response": "done"})
                for judge in ("no_error", "relevance"):
                    rate = today_refund_rate if (day, judge, stratum) == (DAY, "no_error", "refund | ok") else 0.95
                    passed = i < round(rate * n)
                    scores.append({"trace_id": tid, "trace_date": day, "judge": judge, "cost_usd": 0.0,
                                   "verdict": "pass" if passed else "fail",
                                   "rationale": "ok" if passed else f"{judge} found the answer wrong"})
    # planted: the raw text of today's first failing refund trace holds an e-mail address
    raw = [{**t, "request": f"refund order 165, write to {RAW_EMAIL}"} for t in traces
           if t["trace_id"] == f"{DAY:%m%d}-refund-0165"]
    with warehouse.connect(db) as con:
        for table, rows in (("masked_traces", traces), ("eval_dataset", records), ("judge_scores", scores),
                            ("raw_traces", raw)):
            con.register("rows", pa.Table.from_pylist(rows))
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows")  # noqa: S608 - fixed names
            con.unregister("rows")
        for day in DAYS[:-1]:
            dashboards.rebuild_day(con, day)


def _run(day: dt.date) -> dg.ExecuteInProcessResult:
    return dg.materialize([assets.dashboards, assets.daily_report], partition_key=day.isoformat(),
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


def _recorded(db: Path) -> dict[str, tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT check_name, passed, severity, figures, computed_at FROM check_results "
                           "WHERE trace_date = $d", {"d": DAY}).fetchall()
    return {name: rest for name, *rest in rows}


def test_dashboards_record_their_checks_before_the_report_which_shows_them_with_examples(
        pipeline_env: dict[str, Path]) -> None:
    _seed(pipeline_env["warehouse"], 0.55)
    result = _run(DAY)
    steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    assert steps == ["dashboards", "daily_report"]  # the checks are evaluated in the dashboards step
    recorded = _recorded(pipeline_env["warehouse"])
    assert set(recorded) == {"judge_pass_rate_no_regression", "traffic_no_drift", "judges_answer_and_cost_stable"}
    passed, severity, figures, computed_at = recorded["judge_pass_rate_no_regression"]
    assert (passed, severity) == (False, "ERROR")
    assert json.loads(figures)["regressed_judges"] == ["no_error"]
    page = (pipeline_env["reports"] / "daily" / f"{DAY}.html").read_text(encoding="utf-8")
    top = page[:page.index('class="cards"')]
    assert "Of 3 checks, 1 failed." in top and "<b>judge_pass_rate_no_regression</b>" in top
    # the largest drop's examples: the heaviest failing refund records, masked request and rationale
    first = top[top.index("no_error [refund | ok]: 55.0% vs 95.0%"):]
    assert re.findall(r"<code [^>]*>(\d{4}-\w+-\d{4})</code>", first)[:3] == [
        f"{DAY:%m%d}-refund-{i:04d}" for i in (165, 166, 167)]
    assert "refund order 165, write to &lt;EMAIL:000000a5&gt;" in first
    assert "no_error: no_error found the answer wrong" in first
    assert RAW_EMAIL not in page and RAW_EMAIL not in (pipeline_env["reports"] / "index.html").read_text()
    _run(DAY)  # a re-run replaces the day's outcomes, it does not add to them
    again = _recorded(pipeline_env["warehouse"])
    assert set(again) == set(recorded) and again["judge_pass_rate_no_regression"][3] > computed_at


# A tiny chain for reading check outcomes from the instance: an upstream asset with a check that passes and
# one that raises, and a downstream asset (at the report's priority) that reads them.
_parts = dg.DailyPartitionsDefinition(start_date="2026-11-01")
_seen: list[list] = []


@dg.asset(partitions_def=_parts)
def upstream() -> None:
    """An upstream table."""


@dg.asset_check(asset=upstream)
def upstream_fine() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, description="share too high",
                               metadata={"share": 0.4, "threshold": 0.1, "table": dg.MetadataValue.md("| a |")})


@dg.asset_check(asset=upstream)
def upstream_broken() -> dg.AssetCheckResult:
    msg = "planted: this check raises"
    raise RuntimeError(msg)


@dg.asset(partitions_def=_parts, deps=[upstream], op_tags={"dagster/priority": "-1"})
def downstream(context: dg.AssetExecutionContext) -> None:
    """Reads its ancestors' check outcomes, as daily_report does."""
    _seen.append(checks.ancestor_check_outcomes(context, skip=set()))


def test_report_reads_the_latest_check_outcomes_of_its_day_from_the_instance() -> None:
    defs = dg.Definitions(assets=[upstream, downstream], asset_checks=[upstream_fine, upstream_broken])
    job = defs.resolve_implicit_global_asset_job_def()
    _seen.clear()
    with dg.instance_for_test() as instance:
        first = job.execute_in_process(partition_key="2026-11-20", instance=instance, raise_on_error=False)
        job.execute_in_process(partition_key="2026-11-21", instance=instance, raise_on_error=False)
        # the downstream asset alone: its run plans no check, so the day's earlier run answers
        alone = job.execute_in_process(partition_key="2026-11-20", instance=instance, asset_selection=[
            dg.AssetKey("downstream")])
    assert alone.success
    for seen in (_seen[0], _seen[2]):
        by_name = {o.check: o for o in seen}
        assert set(by_name) == {"upstream_fine", "upstream_broken"}
        fine, broken = by_name["upstream_fine"], by_name["upstream_broken"]
        assert (fine.passed, fine.status, fine.description) == (False, "warning", "share too high")
        assert fine.figures == {"share": 0.4, "threshold": 0.1}  # markdown tables stay in the UI
        assert fine.run_id == first.run_id  # the 20th's run, never the 21st's
        assert broken.passed is None and broken.status == "no result" and broken.run_id == first.run_id
    assert _seen[0][0].description == "the check raised an error in this run: see its step's logs"
    assert _seen[2][0].description == "the check raised an error in its last run: see its step's logs"


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
