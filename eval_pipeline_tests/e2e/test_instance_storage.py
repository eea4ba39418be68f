"""Contract: the project's instance keeps one SQLAlchemy engine per sqlite file (instance_storage.py) and changes
nothing else: a run stored through it is read back, event for event, by Dagster's stock sqlite storage on the
same home, in the same layout, also when the instance is opened from its folder without DAGSTER_HOME; the
engine cache is bounded."""

import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import pytest

from eval_pipeline import instance as run_instance
from eval_pipeline import instance_storage

# A tiny partitioned asset job with a check, run on the instance of DAGSTER_HOME; prints what it stored.
JOB = textwrap.dedent("""
    import sys
    import dagster as dg

    @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2026-11-01"), pool="warehouse")
    def a():
        return dg.MaterializeResult(metadata={"rows": 3})

    @dg.asset_check(asset=a)
    def a_ok():
        return dg.AssetCheckResult(passed=True)

    with dg.DagsterInstance.get() as inst:
        if sys.argv[1] == "run":
            job = dg.Definitions(assets=[a], asset_checks=[a_ok], jobs=[dg.define_asset_job("j")]).resolve_job_def("j")
            assert job.execute_in_process(instance=inst, partition_key="2026-11-20").success
        runs = inst.get_runs()
        events = sum(len(inst.all_logs(r.run_id)) for r in runs)
        mat = inst.get_latest_materialization_event(dg.AssetKey("a"))
        print(type(inst.event_log_storage).__name__, len(runs), events, mat.asset_materialization.partition)
""")


def _python(code: str, home: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code, *args], env={"DAGSTER_HOME": str(home), "PATH": "/usr/bin:/bin",
                          "PYTHONPATH": ":".join(sys.path)}, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]


def test_runs_stored_through_the_project_instance_read_back_with_dagsters_stock_storage(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = run_instance.ensure_dagster_home(tmp_path / "home")
    ours = _python(JOB, home, "run")
    assert ours.startswith("EngineCachingSqliteEventLogStorage 1 ")
    # The same files, opened by Dagster's own classes (the yaml without the storage sections).
    (home / "dagster.yaml").write_text(run_instance.DAGSTER_YAML)
    stock = _python(JOB, home, "read")
    assert stock.startswith("SqliteEventLogStorage 1 ") and stock.split()[1:] == ours.split()[1:]
    assert int(ours.split()[2]) > 10 and ours.split()[3] == "2026-11-20"
    assert (home / "history" / "runs.db").is_file() and (home / "history" / "runs" / "index.db").is_file()


def test_an_instance_opened_from_its_folder_without_dagster_home_uses_the_home_it_was_written_for(tmp_path: Path,
                                                                                                     monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = run_instance.ensure_dagster_home(tmp_path / "home")
    monkeypatch.delenv("DAGSTER_HOME")
    with dg.DagsterInstance.from_config(str(home)) as inst:
        assert type(inst.event_log_storage) is instance_storage.EngineCachingSqliteEventLogStorage
        assert inst.event_log_storage._base_dir == str(home / "history" / "runs")


def test_the_engine_cache_is_bounded(tmp_path: Path):
    instance_storage._engine.cache_clear()
    for i in range(instance_storage._ENGINES + 40):
        instance_storage._engine(f"sqlite:///{tmp_path}/run_{i}.db", 15)
    assert instance_storage._engine.cache_info().currsize == instance_storage._ENGINES
    instance_storage._engine.cache_clear()


@pytest.mark.parametrize("cls", [instance_storage.EngineCachingSqliteEventLogStorage,
                                 instance_storage.EngineCachingSqliteRunStorage])
def test_the_storages_build_from_the_yaml_config_as_their_own_class(tmp_path: Path, cls):
    storage = cls.from_config_value(None, {"base_dir": str(tmp_path / "history" / "x")})
    assert type(storage) is cls and (tmp_path / "history" / "x").is_dir()
