"""Contract of the judging checks, run on their own over planted rows: every_record_judged fails on a
(record, judge) pair with no score or with two, and stays quiet when each pair has one;
judge_kappa_above_threshold warns on a judge whose kappa is below judging.min_kappa, and stays quiet
when every judge reaches it or has no kappa."""

import datetime as dt
from pathlib import Path

import dagster as dg

from eval_pipeline.defs.judging.assets import judge_agreement, judge_scores
from eval_pipeline.defs.judging.checks import every_record_judged, judge_kappa_above_threshold
from eval_pipeline.lib import warehouse
from eval_pipeline.resources import Judge, Settings, Warehouse

DAY = dt.date(2026, 11, 20)
JUDGES = ("no_error", "non_empty_response", "relevance")  # the default judging.judges


def _run_check(db: Path, asset: dg.AssetsDefinition, check: dg.AssetChecksDefinition) -> dg.AssetCheckEvaluation:
    result = dg.materialize([asset, check], selection=dg.AssetSelection.checks(check),
                            tags={"dagster/partition": DAY.isoformat()},
                            resources={"warehouse": Warehouse(database=str(db)), "settings": Settings(),
                                       "judge": Judge()})
    (evaluation,) = [e.asset_check_evaluation_data for e in result.all_events
                     if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert not result.asset_materializations_for_node(asset.key.path[-1])  # the check ran alone
    return evaluation


def test_every_record_judged_fails_on_a_missing_or_a_duplicated_score(pipeline_env: dict[str, Path]):
    db = pipeline_env["warehouse"]
    with warehouse.connect(db) as con:
        for t in ("a", "b"):
            con.execute("INSERT INTO eval_dataset (trace_id, trace_date) VALUES ($t, $d)", {"t": t, "d": DAY})
            for judge in JUDGES:
                con.execute("INSERT INTO judge_scores (trace_id, trace_date, judge, verdict) "
                            "VALUES ($t, $d, $j, 'pass')", {"t": t, "d": DAY, "j": judge})
    quiet = _run_check(db, judge_scores, every_record_judged)
    assert quiet.passed and quiet.metadata["missing"].value == 0

    with warehouse.connect(db) as con:
        # Defects: a's relevance score is lost, b's no_error score is stored twice.
        con.execute("DELETE FROM judge_scores WHERE trace_id = 'a' AND judge = 'relevance'")
        con.execute("INSERT INTO judge_scores (trace_id, trace_date, judge, verdict) "
                    "VALUES ('b', $d, 'no_error', 'pass')", {"d": DAY})
    found = _run_check(db, judge_scores, every_record_judged)
    assert not found.passed
    assert (found.metadata["missing"].value, found.metadata["duplicated"].value) == (1, 1)


def test_judge_kappa_above_threshold_warns_only_below_min_kappa(pipeline_env: dict[str, Path]):
    db = pipeline_env["warehouse"]
    with warehouse.connect(db) as con:
        con.execute("INSERT INTO judge_agreement (trace_date, judge, compared, cohen_kappa) VALUES "
                    "($d, 'relevance', 20, 0.75), ($d, 'safety', 12, NULL)", {"d": DAY})
    assert _run_check(db, judge_agreement, judge_kappa_above_threshold).passed

    with warehouse.connect(db) as con:
        # Defect: a judge that agrees with people little more than chance.
        con.execute("INSERT INTO judge_agreement (trace_date, judge, compared, cohen_kappa) VALUES "
                    "($d, 'groundedness', 30, 0.2)", {"d": DAY})
    found = _run_check(db, judge_agreement, judge_kappa_above_threshold)
    assert (found.passed, found.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert found.metadata["judges_below"].value == {"groundedness": 0.2}
