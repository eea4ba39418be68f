"""Contract (issue 12 item 1): a pool claim is freed, and said so, exactly when its run has ended or the
process executing it is gone (the run is then marked failed); a claim of a live run, or of a run whose
process is unknown, is never touched. Also: the dagster.yaml the project writes turns run monitoring on and
loads as a valid instance config."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from eval_pipeline import instance as run_instance


@pytest.fixture(scope="module")
def shared_instance():
    with dg.instance_for_test() as inst:
        inst.event_log_storage.set_concurrency_slots(run_instance.POOL, 1)
        yield inst


@pytest.fixture
def instance(shared_instance: dg.DagsterInstance):
    """One instance for the module (creating one costs seconds), with no claim left between tests."""
    yield shared_instance
    for run_id in shared_instance.event_log_storage.get_concurrency_run_ids():
        shared_instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def _holding(instance: dg.DagsterInstance, status: dg.DagsterRunStatus, tags: dict[str, str]) -> str:
    run = create_run_for_test(instance, status=status, tags=tags)
    instance.event_log_storage.claim_concurrency_slot(run_instance.POOL, run.run_id, "raw_traces")
    return run.run_id


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_free_stale_claims_frees_a_dead_runs_claim_and_fails_the_run(instance: dg.DagsterInstance) -> None:
    pid = _dead_pid()
    run_id = _holding(instance, dg.DagsterRunStatus.STARTED,
                      {run_instance.HOST_TAG: run_instance.this_process_tags()[run_instance.HOST_TAG],
                       run_instance.PID_TAG: str(pid)})
    said: list[str] = []
    assert run_instance.free_stale_claims(instance, said.append) == [run_id]
    assert said == [f"Freed the concurrency pool slots held by run {run_id}: its process {pid} is gone."]
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    assert not instance.event_log_storage.get_concurrency_run_ids()


def test_free_stale_claims_frees_an_ended_runs_claim(instance: dg.DagsterInstance) -> None:
    run_id = _holding(instance, dg.DagsterRunStatus.CANCELED, {})
    said: list[str] = []
    assert run_instance.free_stale_claims(instance, said.append) == [run_id]
    assert "it has ended (CANCELED)" in said[0]


@pytest.mark.parametrize("tags", [
    run_instance.this_process_tags(),  # alive: this very process
    {},  # nothing says which process runs it: only Dagster's run monitoring may judge it
    {run_instance.HOST_TAG: "another-host", run_instance.PID_TAG: "1"},  # a pid on another machine means nothing here
])
def test_free_stale_claims_never_frees_a_live_or_unknown_run(instance: dg.DagsterInstance, tags: dict) -> None:
    run_id = _holding(instance, dg.DagsterRunStatus.STARTED, tags)
    said: list[str] = []
    assert run_instance.free_stale_claims(instance, said.append) == []
    assert said == [] and instance.event_log_storage.get_concurrency_run_ids() == {run_id}
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED


def test_ensure_dagster_home_writes_run_monitoring_and_keeps_an_existing_config(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = run_instance.ensure_dagster_home(tmp_path / "wh.duckdb.dagster_home")
    with dg.DagsterInstance.from_config(str(home)) as inst:
        assert inst.run_monitoring_enabled and inst.run_monitoring_settings["free_slots_after_run_end_seconds"] == 60
    own = tmp_path / "own"
    own.mkdir()
    (own / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # a deployment's own instance config
    monkeypatch.setenv("DAGSTER_HOME", str(own))
    assert run_instance.ensure_dagster_home(tmp_path / "ignored") == own.resolve()
    assert (own / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"
    assert not (tmp_path / "ignored").exists()
