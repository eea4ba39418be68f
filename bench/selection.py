"""Dataset-selection benchmark: one day of N masked traces -> eval_dataset (design.md section 7: 1 M traces
in <= 5 s).

Fills masked_traces with N synthetic traces (30 tool paths, 3 models, 5 % errors, 5 % repeated requests with
masked placeholders, sessions of 8 traces, one heavy user), then times the whole selection of the
eval_dataset asset (lib.sampling.select_day in one transaction, default sampling config) and, as the
reference measured in the same run, DuckDB's own uniform reservoir sample of the same day.

    .venv/bin/python bench/selection.py --traces 1000000
"""

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PeakRSS, gib  # noqa: E402

from eval_pipeline.lib import sampling, warehouse  # noqa: E402
from eval_pipeline.lib.config import Sampling  # noqa: E402

DAY = dt.date(2026, 11, 20)

FILL = """
INSERT INTO masked_traces BY NAME
SELECT md5('trace' || i) AS trace_id, CAST($day AS DATE) AS trace_date,
       CAST($day AS TIMESTAMP) + to_milliseconds(i % 86400000) AS start_time,
       100 + 20000 * random() ** 3 AS latency_ms,
       'svc-' || (i % 4) AS service_name, 'agent' AS root_span_name,
       CASE WHEN random() < 0.05 THEN 'error' ELSE 'ok' END AS status,
       CASE WHEN i % 20 = 0
            THEN 'Please help with order ' || (i % 5000) || ', my email is <EMAIL:' || substr(md5('e' || i), 1, 10) || '>'
            ELSE 'Customer question ' || i || ': where is my parcel, it was due on Monday and the tracking page '
                 || 'shows nothing since then; can you check order ' || (i * 7) || ' please?' END AS request,
       'A long enough answer from the agent that explains the parcel status in detail. ' || i AS response,
       list_transform(range(1 + k % 3), lambda j: 'tool_' || ((k + j * 7) % 11)) AS tool_path,
       [CASE WHEN i % 10 < 6 THEN 'model-a' WHEN i % 10 < 9 THEN 'model-b' ELSE 'model-c' END] AS models,
       'session-' || (i // 8) AS session_id,
       CASE WHEN i % 50 = 0 THEN 'heavy-user' ELSE 'user-' || (i % 40000) END AS user_id
FROM (SELECT i, CAST(floor(30 * random() ** 2) AS BIGINT) AS k FROM range($n) AS t(i))
"""

REFERENCE = """
CREATE OR REPLACE TEMP TABLE reference_sample AS
SELECT * FROM masked_traces WHERE trace_date = $day USING SAMPLE reservoir(200 ROWS) REPEATABLE (1)
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--traces", type=int, default=1_000_000)
    p.add_argument("--keep", action="store_true", help="keep the temporary warehouse")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_selection_"))
    try:
        db = tmp / "warehouse.duckdb"
        t0 = time.perf_counter()
        with warehouse.connect(db) as con:
            con.execute("SELECT setseed(0.42)")  # the same traffic on every run (single-threaded fill)
            con.execute("SET threads = 1")
            con.execute(FILL, {"day": DAY, "n": args.traces})
        print(f"generated {args.traces} masked traces in {time.perf_counter() - t0:.1f} s "
              f"({db.stat().st_size / 2**20:.0f} MiB)")
        print(f"machine: {os.cpu_count()} cores, duckdb {duckdb.__version__}")

        with warehouse.connect(db) as con:
            with PeakRSS() as ref_rss:
                t0 = time.perf_counter()
                con.execute(REFERENCE, {"day": DAY})
                ref_s = time.perf_counter() - t0
        with warehouse.connect(db) as con:
            with PeakRSS() as rss:
                t0 = time.perf_counter()
                with warehouse.transaction(con):
                    sel = sampling.select_day(con, DAY, Sampling())
                ours_s = time.perf_counter() - t0
        print(f"duckdb reservoir sample  : {args.traces:>9} traces in {ref_s:6.2f} s, peak RSS {gib(ref_rss.peak)}")
        print(f"eval_pipeline selection  : {args.traces:>9} traces in {ours_s:6.2f} s "
              f"= {args.traces / ours_s:>10,.0f} traces/s, peak RSS {gib(rss.peak)}")
        print(f"  -> {sel.records} records ({sel.expected_records:.0f} expected) in {sel.strata} strata, "
              f"{sel.unique_requests} unique requests, weight sum {sel.weight_sum:,.0f} "
              f"for {sel.eligible_traces:,} eligible traces")
        print(f"ratio to duckdb          : {ours_s / ref_s:.1f}x its time (stratified, merged, weighted)")
        print("target (design.md 7)     : 1M traces <= 5 s")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
