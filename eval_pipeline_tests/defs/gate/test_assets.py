"""Contract of the release_gate asset: one partition per (dev-eval dataset version, candidate name); a
candidate declared under gate.candidates (or given in the run config) is gated, the verdict lands in the
metadata and in release_gates, and the checks say whether it passed, whether every request was recorded
and whether every decided row carries its interval; a gate that cannot decide fails the run, with nothing
recorded as a pass."""

from pathlib import Path

import dagster as dg
import pytest

from eval_pipeline.defs.gate import assets, checks
from eval_pipeline.lib import warehouse
from eval_pipeline.resources import Judge, Settings, Warehouse
from eval_pipeline_tests.support.gate import VERSION, candidate_server, store_dev_eval

CONFIG = """\
gate:
  margin: 0.05
  min_records: 10
  judges: [no_error, non_empty_response]
  candidates:
    - name: replay
      fn: eval_pipeline_tests.support.gate:answer_like_production
"""


def _materialize(env: dict[str, Path], candidate: str, run_config: dict | None = None) -> dg.ExecuteInProcessResult:
    config = env["landing"].parent / "eval.yaml"
    config.write_text(CONFIG)
    key = f"{VERSION}:{candidate}"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(assets.release_gate_partitions.name, [key])
        return dg.materialize(
            [assets.release_gate, checks.release_gate_checks], partition_key=key, instance=instance,
            resources={"warehouse": Warehouse(), "settings": Settings(config_path=str(config)), "judge": Judge()},
            run_config={"ops": {"release_gate": {"config": run_config or {}}}}, raise_on_error=False)


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed
            for e in result.get_asset_check_evaluations()} if result.success else {}


def _gates(env: dict[str, Path]) -> list[tuple]:
    with warehouse.connect(env["warehouse"]) as con:
        return con.execute("SELECT candidate, judge, verdict, gate_verdict FROM release_gates "
                           "ORDER BY judge").fetchall()


def test_release_gate_gates_a_declared_candidate_and_its_checks_pass(pipeline_env):
    store_dev_eval(pipeline_env["warehouse"], 60)
    result = _materialize(pipeline_env, "replay")
    assert result.success
    (materialization,) = result.asset_materializations_for_node("release_gate")
    assert materialization.metadata["verdict"].value == "pass"
    assert "| no_error | +0.0 |" in materialization.metadata["judges"].value
    assert _checks(result) == {"release_gate_passed": True, "every_request_recorded": True,
                               "gate_estimates_have_intervals": True}
    assert _gates(pipeline_env) == [("replay", "no_error", "pass", "pass"),
                                    ("replay", "non_empty_response", "pass", "pass")]
    assert Path(materialization.metadata["report"].value).is_file()


def test_release_gate_check_fails_a_candidate_given_in_the_run_config_that_answers_empty(pipeline_env):
    store_dev_eval(pipeline_env["warehouse"], 60)
    result = _materialize(pipeline_env, "empty", {"candidate_fn": "eval_pipeline_tests.support.gate:empty_answer"})
    assert result.success  # the gate ran and decided: its check says the release may not go
    assert _checks(result) == {"release_gate_passed": False, "every_request_recorded": True,
                               "gate_estimates_have_intervals": True}
    assert ("empty", "non_empty_response", "fail", "fail") in _gates(pipeline_env)


@pytest.mark.parametrize("candidate", ["unknown-name", "down"])
def test_release_gate_that_cannot_decide_fails_the_run_with_nothing_recorded_as_a_pass(pipeline_env, candidate):
    store_dev_eval(pipeline_env["warehouse"], 60)
    with candidate_server(lambda body: (200, {})) as server:
        url = server.url  # closed once the server stops
    result = _materialize(pipeline_env, candidate, {"candidate_url": url} if candidate == "down" else None)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    text = str(failure.step_failure_data.user_failure_data.description)
    assert ("No candidate named 'unknown-name'" in text if candidate == "unknown-name"
            else text.startswith("The candidate answered none of the 60 requests"))
    assert all(row[3] != "pass" and row[2] != "pass" for row in _gates(pipeline_env))
