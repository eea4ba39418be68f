"""The two ways a user runs a day, timed on the same traffic: the README's `dagster job execute` command and
`eval-pipeline run DAY`, each as a subprocess from a fresh warehouse (so each reads every landing file), on the
demo's sample days and on a bulk day of N spans. Prints wall time per day and path, the ratio, and the peak RSS
of each process tree (design.md section 7: the job path costs <= 1.5x `eval-pipeline run`).

    .venv/bin/python bench/job_path.py                   # 3 demo days and a 1 M-span day
    .venv/bin/python bench/job_path.py --bulk-spans 0    # demo days only
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PeakRSS, gib, scratch  # noqa: E402

from eval_pipeline import synthetic  # noqa: E402

BIN = Path(sys.executable).parent
FIRST = dt.date(2026, 11, 17)
BULK_DAY = dt.date(2026, 11, 25)


def readme_command(day: dt.date) -> list[str]:
    """README, "Use your own traces": the exact command, with the day."""
    return [str(BIN / "dagster"), "job", "execute", "-m", "eval_pipeline.definitions", "-j", "daily_eval",
            "--tags", json.dumps({"dagster/partition": day.isoformat()})]


def cli_command(day: dt.date) -> list[str]:
    return [str(BIN / "eval-pipeline"), "run", day.isoformat()]


def timed(cmd: list[str], env: dict[str, str], log: Path) -> tuple[float, int, int]:
    """Wall seconds, exit status and peak RSS of the process tree of ``cmd``."""
    with log.open("a") as out, PeakRSS() as rss:
        t0 = time.perf_counter()
        rc = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
        elapsed = time.perf_counter() - t0
    return elapsed, rc, rss.peak


def env_for(tmp: Path, name: str, landing: Path) -> dict[str, str]:
    env = {**os.environ, "EVAL_WAREHOUSE": str(tmp / name / "warehouse.duckdb"), "EVAL_LANDING_DIR": str(landing),
           "EVAL_REPORTS_DIR": str(tmp / name / "reports"), "EVAL_MASKING_KEY": "bench-key"}
    for var in ("DAGSTER_HOME", "EVAL_CONFIG", "EVAL_JUDGE_MODEL", "EVAL_JUDGE_API_BASE"):
        env.pop(var, None)  # as the README has it: `dagster job execute` without DAGSTER_HOME, the CLI's default
    (tmp / name).mkdir(parents=True, exist_ok=True)
    return env


def compare(label: str, days: list[dt.date], landing: Path, tmp: Path) -> None:
    paths = {"dagster job execute": readme_command, "eval-pipeline run": cli_command}
    results: dict[str, list[tuple[float, int, int]]] = {}
    for name, command in paths.items():
        env = env_for(tmp, f"{label}-{name.split()[0]}", landing)
        results[name] = [timed(command(d), env, tmp / f"{label}-{name.split()[0]}.log") for d in days]
    print(f"\n{label}:")
    for i, day in enumerate(days):
        (a, rc_a, rss_a), (b, rc_b, rss_b) = results["dagster job execute"][i], results["eval-pipeline run"][i]
        print(f"  {day}  dagster job execute {a:7.1f} s (exit {rc_a}, peak RSS {gib(rss_a)})   "
              f"eval-pipeline run {b:7.1f} s (exit {rc_b}, peak RSS {gib(rss_b)})   ratio {a / b:.2f}x")
    total_a = sum(r[0] for r in results["dagster job execute"])
    total_b = sum(r[0] for r in results["eval-pipeline run"])
    print(f"  total       dagster job execute {total_a:7.1f} s   eval-pipeline run {total_b:7.1f} s   "
          f"ratio {total_a / total_b:.2f}x (target <= 1.5x)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--demo-days", type=int, default=3, help="sample days, as `eval-pipeline demo` makes them")
    p.add_argument("--sessions", type=int, default=40, help="sessions per sample day (the demo's default)")
    p.add_argument("--bulk-spans", type=int, default=1_000_000, help="spans of the bulk day; 0 leaves it out")
    p.add_argument("--keep", action="store_true", help="keep the generated files, warehouses and logs")
    args = p.parse_args()

    with scratch("bench-job-path-", args.keep) as tmp:
        print(f"machine: {os.cpu_count()} cores; logs in {tmp}" if args.keep else f"machine: {os.cpu_count()} cores")
        if args.demo_days:
            landing = tmp / "demo-landing"
            synthetic.generate(landing, FIRST, args.demo_days, sessions_per_day=args.sessions, seed=7)
            days = [FIRST + dt.timedelta(days=i) for i in range(args.demo_days)]
            compare(f"demo days ({args.sessions} sessions a day)", days, landing, tmp)
        if args.bulk_spans:
            landing = tmp / "bulk-landing"
            t0 = time.perf_counter()
            gen = synthetic.generate_bulk(landing, BULK_DAY, args.bulk_spans)
            print(f"\ngenerated {gen} in {time.perf_counter() - t0:.1f} s")
            compare(f"bulk day ({gen['spans']:,} spans)", [BULK_DAY], landing, tmp)

if __name__ == "__main__":
    main()
