"""Re-run benchmark: one day of N spans through ``eval-pipeline run DAY DAY`` (a subprocess, as an operator runs
it), then the same command again with nothing changed, then once more with ``EVAL_FORCE_REBUILD=1`` (the
reference: what a re-run cost before unchanged days were skipped).

Prints each run's wall time and peak RSS (the whole process tree), the time of each step from the Dagster
event log, and whether the warehouse's day is identical after the re-run.

    .venv/bin/python bench/rerun.py --spans 1000000
"""

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PeakRSS, gib, scratch  # noqa: E402

from eval_pipeline import synthetic  # noqa: E402

DAY = dt.date(2026, 11, 20)
# Per table: a content digest of the day (order-independent), so "identical" means identical rows. The
# dashboard tables are rebuilt by every run (they compare the day with the trailing days): not compared.
TABLES = ("raw_traces", "spans", "masked_traces", "eval_dataset", "judge_scores")


def environment(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "EVAL_WAREHOUSE": str(tmp / "warehouse.duckdb"), "EVAL_LANDING_DIR": str(tmp / "landing"),
        "EVAL_REPORTS_DIR": str(tmp / "reports"), "DAGSTER_HOME": str(tmp / "dagster_home"),
        "EVAL_MASKING_KEY": "bench-rerun-key",
    })
    for var in ("EVAL_CONFIG", "EVAL_JUDGE_MODEL", "EVAL_JUDGE_API_BASE", "EVAL_FORCE_REBUILD"):
        env.pop(var, None)
    return env


def run_day(env: dict[str, str], day: dt.date, label: str) -> tuple[float, int, str]:
    """``eval-pipeline run DAY DAY`` as a subprocess: (seconds, peak RSS of the tree, its output)."""
    cmd = [sys.executable, "-m", "eval_pipeline.cli", "run", day.isoformat(), day.isoformat()]
    with PeakRSS() as rss:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-6000:], sep="\n")
        msg = f"{label}: eval-pipeline run exited with {proc.returncode}"
        raise SystemExit(msg)
    return seconds, rss.peak, proc.stdout.strip()


def digests(warehouse: Path, day: dt.date, *, content_only: bool = False) -> dict[str, tuple[int, int]]:
    """(rows, order-independent hash of every row) per table for the day; ``content_only`` leaves out when a
    score was written (a forced rebuild writes new timestamps)."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in TABLES:
            cols = "* EXCLUDE (scored_at)" if content_only and table == "judge_scores" else "*"
            out[table] = con.execute(
                f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM (SELECT {cols} FROM {table} "  # noqa: S608
                "WHERE trace_date = $d) AS t", {"d": day}).fetchall()[0]
    return out


def step_seconds(home: Path) -> list[dict[str, float]]:
    """Per run (oldest first): each step's seconds, from the instance's event log."""
    os.environ["DAGSTER_HOME"] = str(home)
    import dagster as dg

    out = []
    with dg.DagsterInstance.get() as instance:
        for run in reversed(instance.get_runs()):
            starts, steps = {}, {}
            for e in instance.all_logs(run.run_id, of_type={dg.DagsterEventType.STEP_START,
                                                            dg.DagsterEventType.STEP_SUCCESS}):
                if e.dagster_event.event_type == dg.DagsterEventType.STEP_START:
                    starts[e.step_key] = e.timestamp
                elif e.step_key in starts:
                    steps[e.step_key] = e.timestamp - starts[e.step_key]
            out.append(steps)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--spans", type=int, default=1_000_000)
    p.add_argument("--files", type=int, default=20)
    p.add_argument("--no-force", action="store_true", help="skip the forced rebuild (the reference)")
    p.add_argument("--keep", action="store_true", help="keep the generated files and warehouse")
    args = p.parse_args()

    with scratch("bench-rerun-", args.keep) as tmp:
        env = environment(tmp)
        t0 = time.perf_counter()
        gen = synthetic.generate_bulk(tmp / "landing", DAY, args.spans, files=args.files)
        print(f"generated {gen} in {time.perf_counter() - t0:.1f} s; machine: {os.cpu_count()} cores")
        first_s, first_rss, out = run_day(env, DAY, "first run")
        print(f"first run      : {first_s:7.2f} s, peak RSS {gib(first_rss)}   [{out.splitlines()[-1]}]")
        before = digests(tmp / "warehouse.duckdb", DAY)
        content = digests(tmp / "warehouse.duckdb", DAY, content_only=True)
        again_s, again_rss, out = run_day(env, DAY, "re-run")
        print(f"unchanged re-run: {again_s:7.2f} s, peak RSS {gib(again_rss)}   [{out.splitlines()[-1]}]")
        after = digests(tmp / "warehouse.duckdb", DAY)
        same = before == after
        print(f"tables identical after the re-run: {same}  "
              f"({', '.join(f'{t} {n}' for t, (n, _) in after.items())} rows)")
        if not args.no_force:
            forced_s, forced_rss, out = run_day(env | {"EVAL_FORCE_REBUILD": "1"}, DAY, "forced re-run")
            print(f"forced rebuild  : {forced_s:7.2f} s, peak RSS {gib(forced_rss)}   [{out.splitlines()[-1]}]")
            rebuilt = digests(tmp / "warehouse.duckdb", DAY, content_only=True)
            print(f"tables identical after the forced rebuild (but judge_scores.scored_at): {rebuilt == content}")
            print(f"re-run / forced rebuild: {again_s / forced_s:.1%}")
        for i, steps in enumerate(step_seconds(tmp / "dagster_home"), start=1):
            slow = [kv for kv in sorted(steps.items(), key=lambda kv: -kv[1]) if kv[1] >= 0.1]
            print(f"run {i} steps: total {sum(steps.values()):.1f} s; " + ", ".join(f"{k} {v:.1f}" for k, v in slow))
        print("target (design.md 7): an unchanged day re-run in <= 5 s")
        if not same:
            raise SystemExit("the unchanged re-run changed the warehouse")


if __name__ == "__main__":
    main()
