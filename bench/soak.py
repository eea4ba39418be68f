"""Scale soak: a backfill of D days of N spans each through ``daily_eval``, two runs at a time.

Each run is ``eval-pipeline run DAY DAY`` as a subprocess; the runs share one warehouse and one DAGSTER_HOME,
and two of them (``--parallel``) run at once on disjoint days, as a backfill with a concurrency of two would.
Prints the wall time, the peak RSS of the whole process tree, each run's time, the warehouse and the Parquet
cache size per day, the runs that failed or met DuckDB's lock, and whether the first ``--serial-days`` days are
identical (counts and content) to the same days run one after the other on a warehouse of their own.

    .venv/bin/python bench/soak.py --days 30 --spans-per-day 200000      # the full soak (long)
    .venv/bin/python bench/soak.py --days 3 --spans-per-day 20000         # a quick correctness run
"""

import argparse
import datetime as dt
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PeakRSS, gib, scratch  # noqa: E402
from rerun import environment  # noqa: E402

from eval_pipeline import synthetic  # noqa: E402

START = dt.date(2026, 10, 1)
# What must equal the serial runs, per table (timestamps of when a row was written left out).
COMPARED = {"raw_traces": "*", "spans": "* EXCLUDE (source_file)", "masked_traces": "*", "eval_dataset": "*",
            "judge_scores": "* EXCLUDE (scored_at)", "daily_metrics": "* EXCLUDE (computed_at)"}
LOCK_WORDS = ("Could not set lock", "Conflicting lock", "stayed locked")


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def warehouse_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in (db, db.with_name(db.name + ".wal")) if p.exists())


def run_one(env: dict[str, str], day: dt.date) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "eval_pipeline.cli", "run", day.isoformat(), day.isoformat()],
                          env=env, capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    return {"day": day, "seconds": time.perf_counter() - t0, "ok": proc.returncode == 0, "rc": proc.returncode,
            "lock_errors": sum(out.count(w) for w in LOCK_WORDS), "tail": out[-2000:]}


def backfill(env: dict[str, str], days: list[dt.date], parallel: int, db: Path) -> list[dict]:
    """Run every day, ``parallel`` runs at a time; after each run, the warehouse and cache sizes."""
    todo: queue.Queue[dt.date] = queue.Queue()
    for d in days:
        todo.put(d)
    results: list[dict] = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            try:
                day = todo.get_nowait()
            except queue.Empty:
                return
            r = run_one(env, day)
            with lock:
                r |= {"warehouse": warehouse_bytes(db), "cache": folder_bytes(Path(str(db) + ".landed")),
                      "done": len(results) + 1}
                results.append(r)
                print(f"  {r['day']}: {'ok' if r['ok'] else 'FAILED'} in {r['seconds']:6.1f} s; warehouse "
                      f"{r['warehouse'] / 2**20:7.0f} MiB, cache {r['cache'] / 2**20:7.0f} MiB after {r['done']} runs",
                      flush=True)
                if not r["ok"]:
                    print(r["tail"])
                if r["rc"] == 2:  # the setup is wrong (config, landing, days): every other day would fail alike
                    while not todo.empty():
                        todo.get_nowait()

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def day_digests(db: Path, days: list[dt.date]) -> dict[tuple[str, dt.date], tuple[int, int]]:
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for table, cols in COMPARED.items():
            for day in days:
                out[(table, day)] = con.execute(
                    f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM (SELECT {cols} FROM {table} "  # noqa: S608
                    "WHERE trace_date = $d) AS t", {"d": day}).fetchall()[0]
    return out


def create_instance(home: Path) -> None:
    """Create the Dagster instance's storage once, before the runs: processes that start together on a fresh
    DAGSTER_HOME race on creating it (issue 12, item 5: fixed apart from this benchmark)."""
    os.environ["DAGSTER_HOME"] = str(home)
    import dagster as dg

    from eval_pipeline.cli import ensure_dagster_home

    ensure_dagster_home()
    with dg.DagsterInstance.get():
        pass


def failed_dagster_runs(home: Path) -> int:
    os.environ["DAGSTER_HOME"] = str(home)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        return sum(1 for r in instance.get_runs() if r.status != dg.DagsterRunStatus.SUCCESS)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--spans-per-day", type=int, default=200_000)
    p.add_argument("--files-per-day", type=int, default=8)
    p.add_argument("--parallel", type=int, default=2, help="runs at a time")
    p.add_argument("--serial-days", type=int, default=3, help="days also run one by one on their own warehouse")
    p.add_argument("--keep", action="store_true", help="keep the generated files and warehouses")
    args = p.parse_args()

    days = [START + dt.timedelta(days=i) for i in range(args.days)]
    with scratch("bench-soak-", args.keep) as tmp:
        t0 = time.perf_counter()
        spans = 0
        for i, day in enumerate(days):
            # One population of traces (template_seed), copies drawn anew each day: steady traffic, so an ERROR
            # drift check is a false alarm (a different template seed per day is a different population).
            spans += synthetic.generate_bulk(tmp / "landing", day, args.spans_per_day, files=args.files_per_day,
                                             seed=i + 1, template_seed=1)["spans"]
        landing_mb = folder_bytes(tmp / "landing") / 2**20
        print(f"generated {spans} spans over {len(days)} days ({landing_mb:.0f} MiB) in "
              f"{time.perf_counter() - t0:.0f} s; machine: {os.cpu_count()} cores", flush=True)

        env = environment(tmp) | {"EVAL_FIRST_DAY": START.isoformat()}  # the days are partitions
        db = Path(env["EVAL_WAREHOUSE"])
        create_instance(Path(env["DAGSTER_HOME"]))
        print(f"backfill, {args.parallel} runs at a time:")
        with PeakRSS() as rss:
            t0 = time.perf_counter()
            results = backfill(env, days, args.parallel, db)
            wall = time.perf_counter() - t0
        failed = [r["day"] for r in results if not r["ok"]]
        runs = sorted(r["seconds"] for r in results)
        print(f"wall time {wall:.0f} s for {len(days)} days ({spans / wall:,.0f} spans/s end to end), peak RSS "
              f"{gib(rss.peak)}; run time median {runs[len(runs) // 2]:.1f} s, max {runs[-1]:.1f} s")
        print(f"warehouse {warehouse_bytes(db) / 2**20:.0f} MiB ({warehouse_bytes(db) / len(days) / 2**20:.1f} "
              f"MiB/day), Parquet cache {folder_bytes(Path(str(db) + '.landed')) / 2**20:.0f} MiB "
              f"({folder_bytes(Path(str(db) + '.landed')) / len(days) / 2**20:.1f} MiB/day), landing "
              f"{landing_mb / len(days):.1f} MiB/day")
        print(f"runs failed: {len(failed)} {failed or ''}; lock errors in the runs' output: "
              f"{sum(r['lock_errors'] for r in results)}; Dagster runs not successful: "
              f"{failed_dagster_runs(Path(env['DAGSTER_HOME']))}")

        serial = days[:args.serial_days]
        if serial:
            home = tmp / "serial"
            for day in serial:  # the same files (linked), in a landing zone of their own: no other day to read
                (home / "landing" / day.isoformat()).mkdir(parents=True)
                for f in (tmp / "landing" / day.isoformat()).iterdir():
                    os.link(f, home / "landing" / day.isoformat() / f.name)
            senv = env | {"EVAL_WAREHOUSE": str(home / "warehouse.duckdb"), "DAGSTER_HOME": str(home / "dagster"),
                          "EVAL_REPORTS_DIR": str(home / "reports"), "EVAL_LANDING_DIR": str(home / "landing")}
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "eval_pipeline.cli", "run", serial[0].isoformat(),
                                   serial[-1].isoformat()], env=senv, capture_output=True, text=True, check=False)
            print(f"serial reference: {len(serial)} days one by one on their own warehouse in "
                  f"{time.perf_counter() - t0:.0f} s ({'ok' if proc.returncode == 0 else 'FAILED'})")
            ours, ref = day_digests(db, serial), day_digests(home / "warehouse.duckdb", serial)
            differ = sorted({f"{t} {d}" for (t, d) in ours if ours[(t, d)] != ref[(t, d)]})
            counts = {t: sum(ours[(t, d)][0] for d in serial) for t in COMPARED}
            print(f"the first {len(serial)} days equal the serial runs (counts and content): {not differ} "
                  f"{differ or ''}  rows: {counts}")
            if differ or proc.returncode:
                raise SystemExit(1)
        if failed:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
