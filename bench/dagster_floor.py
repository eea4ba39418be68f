"""What a run of ``daily_eval``'s shape costs in Dagster alone: the floor under an unchanged day's re-run.

Builds, from the project's own definitions, a job with the same assets, checks, dependencies, partitions and
pool as ``daily_eval`` whose every body does nothing (an asset reports one metadata entry, a check passes), and
runs one partition of it in a fresh process, as ``eval-pipeline run`` would, on an instance with the project's
``dagster.yaml`` (sqlite storage, ``instance_storage.py``), on Dagster's stock sqlite storage classes, on an
in-memory instance, and with every check inside its asset's step (what fewer steps would save). Prints the process's CPU and wall time
split into start-up (imports and definitions) and the run, next to the steps and events of each run.

    .venv/bin/python bench/dagster_floor.py --repeat 3
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = "--child"


def noop_definitions(merged_checks: bool = False):
    """The no-op job; with ``merged_checks`` every check runs inside its asset's step (10 steps, not 19)."""
    import dagster as dg

    from eval_pipeline.definitions import defs as project_defs

    real = project_defs()
    job = real.resolve_job_def("daily_eval")
    keys = set(job.asset_layer.executable_asset_keys)
    graph = real.resolve_asset_graph()
    assets, checks = [], []
    all_checks = [s for ad in graph.assets_defs for s in ad.check_specs if s.asset_key in keys]
    for i, ad in enumerate(graph.assets_defs):
        specs = [s for s in ad.specs if s.key in keys]
        if specs:
            own = [c for c in all_checks if c.asset_key in {s.key for s in specs}] if merged_checks else []

            @dg.multi_asset(specs=specs, check_specs=own, partitions_def=ad.partitions_def, name=f"noop_{i}",
                            pool="warehouse", can_subset=True)
            def _asset(context: dg.AssetExecutionContext):
                for key in context.selected_asset_keys:
                    yield dg.MaterializeResult(asset_key=key, metadata={"rows": 0})
                for key in context.selected_asset_check_keys:
                    yield dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name, passed=True)
            assets.append(_asset)
        check_specs = [s for s in ad.check_specs if s.asset_key in keys]
        if check_specs and not specs and not merged_checks:
            @dg.multi_asset_check(specs=check_specs, name=f"noop_checks_{i}", can_subset=True)
            def _checks(context: dg.AssetCheckExecutionContext):
                for key in context.selected_asset_check_keys:
                    yield dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name, passed=True)
            checks.append(_checks)
    noop_job = dg.define_asset_job("noop_daily_eval", selection=dg.AssetSelection.assets(*keys),
                                   partitions_def=job.partitions_def)
    return dg.Definitions(assets=assets, asset_checks=checks, jobs=[noop_job]), job.partitions_def


def child(ephemeral: bool, merged_checks: bool) -> None:
    t0, w0 = time.process_time(), time.perf_counter()
    import dagster as dg

    defs, partitions = noop_definitions(merged_checks)
    job = defs.resolve_job_def("noop_daily_eval")
    day = partitions.get_last_partition_key()
    t1, w1 = time.process_time(), time.perf_counter()
    instance = dg.DagsterInstance.ephemeral() if ephemeral else dg.DagsterInstance.get()
    with instance:
        result = job.execute_in_process(instance=instance, partition_key=day)
        events = len(result.all_events)
        steps = len({e.step_key for e in result.all_events if e.step_key})
    shape = "checks in their asset's step" if merged_checks else "daily_eval's steps"
    print(f"{shape}: ok={result.success} steps={steps} events={events}; "
          f"start-up {t1 - t0:.2f} s CPU ({w1 - w0:.2f} s wall), run {time.process_time() - t1:.2f} s CPU "
          f"({time.perf_counter() - w1:.2f} s wall)", flush=True)


def main() -> None:
    if CHILD in sys.argv:
        child(ephemeral="--ephemeral" in sys.argv, merged_checks="--merged-checks" in sys.argv)
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    from eval_pipeline import instance

    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        home = instance.ensure_dagster_home(Path(tmp) / "dagster_home")
        # Dagster's own sqlite storage classes (a new SQLAlchemy engine per connection), for comparison.
        stock = Path(tmp) / "stock_home"
        stock.mkdir()
        (stock / "dagster.yaml").write_text(instance.DAGSTER_YAML)
        print(f"load average {os.getloadavg()[0]:.1f}; {os.cpu_count()} cores")
        variants = [("project's instance", home, []), ("stock sqlite storage", stock, []),
                    ("in-memory instance", home, ["--ephemeral"]), ("project's instance", home, ["--merged-checks"])]
        for _ in range(args.repeat):
            for label, where, extra in variants:
                print(f"{label:21}", end=" ", flush=True)
                subprocess.run([sys.executable, __file__, CHILD, *extra], env=dict(os.environ, DAGSTER_HOME=str(where)),
                               check=True, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
