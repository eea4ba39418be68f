"""Contract of cheap re-runs: materializing a day again when its landing files and config did not change
rebuilds nothing (every step of the chain says which run it kept, its tables keep their very rows, its metadata
keys are the same, its checks still evaluate); a changed landing file, a late file with spans of the day's
traces, a config change, rows changed by hand, scores waiting for a retry, or a forced rebuild rebuild exactly
what depends on them, and files of another day do not."""

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from eval_pipeline.defs.dataset.assets import eval_dataset
from eval_pipeline.defs.judging.assets import judge_scores
from eval_pipeline.defs.judging.checks import every_record_judged
from eval_pipeline.defs.privacy.assets import masked_traces
from eval_pipeline.defs.privacy.checks import masked_traces_expectations, no_pii_left
from eval_pipeline.defs.traces.assets import raw_traces
from eval_pipeline.defs.traces.checks import raw_traces_expectations
from eval_pipeline.lib import warehouse
from eval_pipeline.resources import Judge, LandingZone, Settings, Warehouse
from eval_pipeline_tests.support import otlp_builders as b
from eval_pipeline_tests.support.landing import DAY, T, agent_trace, write

CHAIN = [raw_traces, masked_traces, eval_dataset, judge_scores]
CHECKS = [raw_traces_expectations, masked_traces_expectations, no_pii_left, every_record_judged]
STEPS = ("raw_traces", "masked_traces", "eval_dataset", "judge_scores")
TABLES = ("raw_traces", "spans", "masked_traces", "eval_dataset", "judge_scores")
ALL_BUILT = dict.fromkeys(STEPS, "")
TRACES = [f"{i + 1:032x}" for i in range(6)]


def _landing(landing: Path) -> None:
    """Six agent traces of DAY in two files."""
    traces = [agent_trace(t, T + dt.timedelta(minutes=i), question=f"Where is parcel {i}?")
              for i, t in enumerate(TRACES)]
    write(landing / "a.json", [s for t in traces[:3] for s in t])
    write(landing / "b.json", [s for t in traces[3:] for s in t])


@pytest.fixture
def env(pipeline_env: dict[str, Path]):
    _landing(pipeline_env["landing"])
    with dg.instance_for_test() as instance:
        yield pipeline_env, instance


def _run(instance: dg.DagsterInstance, checks: bool = False, **tags: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(CHAIN + CHECKS * checks, partition_key=DAY.isoformat(), instance=instance, tags=tags,
                          raise_on_error=False, resources={
        "warehouse": Warehouse(), "landing": LandingZone(), "settings": Settings(), "judge": Judge()})


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()}
            for m in result.get_asset_materialization_events() for m in [m.materialization]}


def _kept(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """Per step, the run whose build it kept ("" when it built the day)."""
    meta = _metadata(result)
    return {step: meta[step]["unchanged_since_run"] for step in STEPS}


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, tuple[bool, str]]:
    return {e.asset_check_evaluation_data.check_name: (
        e.asset_check_evaluation_data.passed,
        (m.value if (m := e.asset_check_evaluation_data.metadata.get("same_rows_as_run")) else None))
        for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def _tables(db: Path) -> dict[str, list]:
    """Every row of the day with its row id: a table rewritten with the same content still differs."""
    with warehouse.connect(db, read_only=True) as con:
        return {t: con.execute(f"SELECT rowid, * FROM {t} WHERE trace_date = $d ORDER BY rowid",  # noqa: S608
                               {"d": DAY}).fetchall() for t in TABLES}


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "eval.yaml"
    path.write_text(text)
    monkeypatch.setenv("EVAL_CONFIG", str(path))


def test_rerun_of_an_unchanged_day_rebuilds_nothing_and_checks_still_run(env) -> None:
    paths, instance = env
    first = _run(instance, checks=True)
    assert _kept(first) == ALL_BUILT
    before = _tables(paths["warehouse"])
    assert len(before["raw_traces"]) == 6 and len(before["judge_scores"]) == 3 * len(before["eval_dataset"]) > 0

    again = _run(instance, checks=True)
    assert _kept(again) == dict.fromkeys(STEPS, first.run_id)
    assert _tables(paths["warehouse"]) == before  # the same rows, ids and scored_at: nothing was rewritten
    meta1, meta2 = _metadata(first), _metadata(again)
    assert {a: set(m) for a, m in meta2.items()} == {a: set(m) for a, m in meta1.items()}
    assert meta2["raw_traces"]["traces"] == 6 and meta2["spans"]["spans"] == 24
    assert meta2["masked_traces"]["dagster/row_count"] == 6 and meta2["judge_scores"]["records"] == len(before["eval_dataset"])
    assert (meta2["raw_traces"]["files_read"], meta2["spans"]["spans_read_this_run"]) == (0, 0)
    checks = _checks(again)
    assert {"trace_id_unique", "user_id_pseudonymised", "every_record_judged"} <= set(checks)
    assert all(passed for passed, _ in checks.values()), checks
    # the rule suites saw the same rows and reused their results; the other checks read the warehouse again
    assert checks["trace_id_unique"] == (True, first.run_id)
    assert checks["no_pii_left"] == (True, first.run_id)
    assert checks["every_record_judged"] == (True, None)


def test_rerun_rebuilds_the_chain_when_a_landing_file_changed(env) -> None:
    paths, instance = env
    _run(instance)
    trace = agent_trace(TRACES[0], T, question="Where is parcel 99?")  # the producer re-wrote one trace
    write(paths["landing"] / "a.json", trace)
    again = _run(instance)
    assert _kept(again) == ALL_BUILT
    requests = {r[3] for r in _tables(paths["warehouse"])["eval_dataset"]}
    assert any("99" in str(r) for r in requests)
    assert len(_tables(paths["warehouse"])["raw_traces"]) == 4  # a.json now holds one trace of the three


def test_rerun_rebuilds_the_day_when_a_late_file_adds_spans_to_its_trace(env) -> None:
    paths, instance = env
    first = _run(instance)
    # defect of timing: a child span of a trace of DAY, started after midnight, lands in a later file
    with warehouse.connect(paths["warehouse"], read_only=True) as con:
        [(root,)] = con.execute("SELECT span_id FROM spans WHERE trace_id = $t AND parent_span_id IS NULL",
                                {"t": TRACES[5]}).fetchall()
    late = b.span(TRACES[5], b.new_span_id(), "execute_tool late", T.replace(hour=23, minute=59) +
                  dt.timedelta(minutes=2), 100, parent=root, attributes={"gen_ai.tool.name": "late"})
    write(paths["landing"] / "2026-11-21" / "late.json", [late])
    again = _run(instance)
    assert _kept(again)["raw_traces"] == ""
    assert _metadata(again)["spans"]["spans"] == 25
    assert _metadata(first)["spans"]["spans"] == 24


def test_rerun_keeps_the_day_when_only_another_days_files_land(env) -> None:
    paths, instance = env
    first = _run(instance)
    write(paths["landing"] / "next.json", agent_trace(b.new_trace_id(), T + dt.timedelta(days=1)))
    again = _run(instance)
    assert _metadata(again)["raw_traces"]["files_read"] == 1  # the new file was read...
    assert _kept(again) == dict.fromkeys(STEPS, first.run_id)  # ...and changes nothing of DAY


def test_config_changes_rebuild_exactly_the_steps_that_read_them(env, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    paths, instance = env
    first = _run(instance)
    _config(tmp_path, monkeypatch, "sampling:\n  target_size: 3\n")
    sampled = _run(instance)
    assert _kept(sampled) == {"raw_traces": first.run_id, "masked_traces": first.run_id,
                              "eval_dataset": "", "judge_scores": ""}
    assert len(_tables(paths["warehouse"])["eval_dataset"]) < 6
    _config(tmp_path, monkeypatch, "sampling:\n  target_size: 3\njudging:\n  judges: [no_error]\n")
    judged = _run(instance)
    assert _kept(judged) == {"raw_traces": first.run_id, "masked_traces": first.run_id,
                             "eval_dataset": sampled.run_id, "judge_scores": ""}
    _config(tmp_path, monkeypatch, "sampling:\n  target_size: 3\njudging:\n  judges: [no_error]\n"
                                   "privacy:\n  drop_services: [nobody]\n")
    masked = _run(instance)
    # masked and selected again; the records the judges see came out the same, so their scores are kept
    assert _kept(masked) == {"raw_traces": first.run_id, "masked_traces": "", "eval_dataset": "",
                             "judge_scores": judged.run_id}


def test_force_rebuild_by_environment_or_run_tag_rebuilds_every_step(env, monkeypatch: pytest.MonkeyPatch) -> None:
    _, instance = env
    _run(instance)
    assert _kept(_run(instance, **{"eval/force_rebuild": "true"})) == ALL_BUILT
    monkeypatch.setenv("EVAL_FORCE_REBUILD", "1")
    assert _kept(_run(instance)) == ALL_BUILT
    monkeypatch.setenv("EVAL_FORCE_REBUILD", "0")  # false alarm: 0 does not force
    assert "" not in _kept(_run(instance)).values()


def test_rows_changed_by_hand_are_rebuilt(env) -> None:
    paths, instance = env
    first = _run(instance)
    with warehouse.connect(paths["warehouse"]) as con:
        con.execute("DELETE FROM masked_traces WHERE trace_date = $d", {"d": DAY})  # defect: a day deleted by hand
    again = _run(instance)
    kept = _kept(again)
    assert (kept["raw_traces"], kept["masked_traces"]) == (first.run_id, "")
    assert len(_tables(paths["warehouse"])["masked_traces"]) == 6


def test_scores_waiting_for_a_retry_are_judged_again(env) -> None:
    paths, instance = env
    first = _run(instance)
    with warehouse.connect(paths["warehouse"]) as con:
        # defect: a judge call timed out in the first run (its verdict is asked again by the next)
        con.execute("UPDATE judge_scores SET verdict = 'unknown', unknown_reason = 'timeout' "
                    "WHERE judge = 'no_error' AND trace_id = $t", {"t": TRACES[0]})
    again = _run(instance)
    assert _kept(again) == {**dict.fromkeys(STEPS[:3], first.run_id), "judge_scores": ""}
    with warehouse.connect(paths["warehouse"], read_only=True) as con:
        assert con.execute("SELECT count(*) FROM judge_scores WHERE unknown_reason = 'timeout'").fetchall() == [(0,)]
    assert _kept(_run(instance))["judge_scores"] == again.run_id  # judged in full: kept from then on


def test_a_reference_answer_added_for_a_record_judges_the_day_again(env) -> None:
    paths, instance = env
    first = _run(instance)
    with warehouse.connect(paths["warehouse"]) as con:
        # a person wrote the expected answer of a record: what the judges see changed, nothing upstream did
        con.execute("INSERT INTO judge_expectations (trace_id, expected_response) "
                    "SELECT min(trace_id), 'Friday.' FROM eval_dataset")
    again = _run(instance)
    assert _kept(again) == {**dict.fromkeys(STEPS[:3], first.run_id), "judge_scores": ""}


def test_checks_on_a_kept_day_still_see_rows_changed_since(env) -> None:
    paths, instance = env
    first = _run(instance, checks=True)
    with warehouse.connect(paths["warehouse"]) as con:
        # defect: an address written into a masked row by hand; the row count stays, so masked_traces is kept
        con.execute("UPDATE masked_traces SET request = 'write to jane.doe@example.com' WHERE trace_id = $t",
                    {"t": TRACES[0]})
    again = _run(instance, checks=True)
    assert _metadata(again)["masked_traces"]["unchanged_since_run"] == first.run_id
    assert not again.success  # the blocking check stopped the day
    checks = _checks(again)
    assert checks["no_pii_left"] == (False, "")  # scanned again: the rows no longer hash the same
    # the suites read ids, dates and pseudonyms only, which did not change: their results are reused
    assert checks["masked_trace_id_unique"] == (True, first.run_id)
    assert checks["trace_id_unique"] == (True, first.run_id)
