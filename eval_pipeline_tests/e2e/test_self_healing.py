"""Contract (issue 12 items 1 and 5): a run killed with kill -9 never blocks the next one (its pool claim is
freed and the run marked failed, with a message), SIGTERM stops a run promptly (also one waiting for the pool)
and releases its claims, and four processes starting on one fresh DAGSTER_HOME at once all succeed. Every run
here is a real `eval-pipeline run` subprocess on the same instance and warehouse."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from eval_pipeline import instance as run_instance
from eval_pipeline import synthetic

DAY = dt.date(2026, 11, 20)
_EXE = str(Path(sys.executable).parent / "eval-pipeline")


def _env(home: Path) -> dict[str, str]:
    """The test's EVAL_* settings (pipeline_env) and its own DAGSTER_HOME, for a subprocess."""
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("EVAL_FIRST_DAY", None)
    return env


def _run(env: dict[str, str], *days: dt.date) -> subprocess.Popen:
    return subprocess.Popen([_EXE, "run", *(d.isoformat() for d in days)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home))


def _pool(home: Path):
    with _instance(home) as instance:
        return instance.event_log_storage.get_concurrency_info(run_instance.POOL)


def _claims(home: Path) -> set[str]:
    return {s.run_id for s in _pool(home).claimed_slots}


def _wait(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {what}"
        time.sleep(0.2)


def _counts(pipeline_env: dict[str, Path]) -> tuple[int, int]:
    with duckdb.connect(str(pipeline_env["warehouse"]), read_only=True) as con:
        spans = con.execute("SELECT count(*) FROM spans WHERE trace_date = $d", {"d": DAY}).fetchall()[0][0]
        traces = con.execute("SELECT count(*) FROM raw_traces WHERE trace_date = $d", {"d": DAY}).fetchall()[0][0]
    return spans, traces


@pytest.mark.slow
def test_run_after_a_killed_run_frees_its_claim_and_completes(pipeline_env: dict[str, Path], tmp_path: Path) -> None:
    sent = synthetic.generate_bulk(pipeline_env["landing"], DAY, 60_000, files=8)
    home = tmp_path / "home"
    env = _env(home)
    killed = _run(env, DAY)
    try:
        _wait(lambda: home.joinpath("dagster.yaml").is_file() and _claims(home), 120, "the run to claim the pool")
        time.sleep(1.0)  # into raw_traces' ingestion
        killed.kill()
        killed.wait(timeout=30)
    finally:
        killed.kill()
    stale = _claims(home)
    assert stale, "the killed run should still hold its pool claim (the wedge of issue 12)"

    t0 = time.monotonic()
    nxt = _run(env, DAY)
    out, _ = nxt.communicate(timeout=600)
    assert nxt.returncode == 0, out
    assert time.monotonic() - t0 < 300
    (run_id,) = stale
    assert f"Freed the concurrency pool slots held by run {run_id}: its process {killed.pid} is gone" in out
    assert _counts(pipeline_env) == (sent["spans"], sent["traces"])
    with _instance(home) as instance:
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
        assert not instance.event_log_storage.get_concurrency_run_ids()


@pytest.mark.slow
def test_sigterm_stops_a_run_waiting_for_the_pool_and_releases_it(pipeline_env: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    synthetic.generate(pipeline_env["landing"], DAY, 1, sessions_per_day=8, seed=3, malformed=False)
    home = tmp_path / "home"
    env = _env(home)
    holder = _run(env, DAY)
    try:
        _wait(lambda: home.joinpath("dagster.yaml").is_file() and _claims(home), 120, "the first run to claim")
        holder.send_signal(signal.SIGSTOP)  # it keeps the slot and cannot let go: the second run must wait
        (holding,) = _claims(home)
        waiter = _run(env, DAY)

        def waiting() -> bool:
            return any(p.run_id != holding and p.assigned_timestamp is None for p in _pool(home).pending_steps)

        _wait(waiting, 120, "the second run to wait for the pool")
        time.sleep(3)  # well into its wait (Dagster re-checks a pending claim every few seconds)
        t0 = time.monotonic()
        waiter.send_signal(signal.SIGTERM)
        out, _ = waiter.communicate(timeout=60)
        assert time.monotonic() - t0 < 15, out
        assert waiter.returncode == 130, out
        info = _pool(home)
        assert {p.run_id for p in info.pending_steps} <= {holding}
        assert {s.run_id for s in info.claimed_slots} == {holding}
    finally:
        holder.send_signal(signal.SIGCONT)
    out, _ = holder.communicate(timeout=600)
    assert holder.returncode == 0, out


@pytest.mark.slow
def test_four_runs_starting_on_a_fresh_dagster_home_all_succeed(pipeline_env: dict[str, Path],
                                                                tmp_path: Path) -> None:
    synthetic.generate(pipeline_env["landing"], DAY, 2, sessions_per_day=6, seed=5, malformed=False)
    home = tmp_path / "fresh-home"
    env = _env(home)
    days = [DAY, DAY + dt.timedelta(days=1)]
    procs = [_run(env, days[i % 2]) for i in range(4)]
    outs = [p.communicate(timeout=900)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], "\n\n".join(outs)
