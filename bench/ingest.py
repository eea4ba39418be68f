"""Ingestion benchmark: N spans of Collector JSON lines -> `spans` + `raw_traces` for one day.

Prints spans/s and peak RSS (the whole process tree, workers included) for our ingestion, and the
same figures for DuckDB's own bare `read_json` flattening of the same files (the reference of
design.md section 7), measured in the same run.

    .venv/bin/python bench/ingest.py --spans 1000000
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

from eval_pipeline import synthetic  # noqa: E402
from eval_pipeline.lib import ingest, warehouse  # noqa: E402

DAY = dt.date(2026, 11, 20)

# trace-formats.md section 8.2: the pinned-schema flattening, nothing more.
DUCKDB_FLATTEN = """
CREATE TABLE flat AS
WITH r AS (
  SELECT unnest(resourceSpans) AS rs
  FROM read_json($files, format = 'newline_delimited', maximum_object_size = 268435456,
    columns = {'resourceSpans': 'STRUCT("resource" STRUCT(attributes STRUCT("key" VARCHAR, "value" JSON)[]), schemaUrl VARCHAR,
       scopeSpans STRUCT("scope" STRUCT("name" VARCHAR, version VARCHAR, attributes STRUCT("key" VARCHAR, "value" JSON)[]), schemaUrl VARCHAR,
         spans STRUCT(traceId VARCHAR, spanId VARCHAR, parentSpanId VARCHAR, traceState VARCHAR, flags UBIGINT, "name" VARCHAR,
           kind JSON, startTimeUnixNano JSON, endTimeUnixNano JSON, attributes STRUCT("key" VARCHAR, "value" JSON)[],
           events STRUCT(timeUnixNano JSON, "name" VARCHAR, attributes STRUCT("key" VARCHAR, "value" JSON)[])[],
           links JSON, status STRUCT(code JSON, message VARCHAR))[])[])[]'})
), s AS (SELECT rs.resource AS res, unnest(rs.scopeSpans) AS ss FROM r),
sp AS (SELECT res, ss.scope AS scope, unnest(ss.spans) AS span FROM s)
SELECT lower(span.traceId) AS trace_id, lower(span.spanId) AS span_id,
       nullif(lower(span.parentSpanId), '') AS parent_span_id, span.name AS name,
       span.kind ->> '$' AS kind_raw,
       (span.startTimeUnixNano ->> '$')::HUGEINT AS start_ns,
       (span.endTimeUnixNano ->> '$')::HUGEINT AS end_ns,
       map_from_entries(list_transform(span.attributes, lambda a: {'k': a.key, 'v': a.value})) AS attrs,
       map_from_entries(list_transform(res.attributes,  lambda a: {'k': a.key, 'v': a.value})) AS resource_attrs,
       scope.name AS scope_name,
       coalesce(span.status.code ->> '$', '0') AS status_code_raw,
       span.status.message AS status_message, span.events AS events
FROM sp
"""


def run_duckdb_reference(files: list[str], tmp: Path) -> tuple[float, int, int]:
    with PeakRSS() as rss:
        t0 = time.perf_counter()
        con = duckdb.connect(str(tmp / "reference.duckdb"))
        con.execute(DUCKDB_FLATTEN, {"files": files})
        n = con.execute("SELECT count(*) FROM flat").fetchall()[0][0]
        con.close()
        elapsed = time.perf_counter() - t0
    return elapsed, n, rss.peak


def run_ours(landing: Path, tmp: Path, workers: int | None) -> tuple[float, float, ingest.IngestStats,
                                                                     ingest.DayResult, int]:
    with PeakRSS() as rss:
        t0 = time.perf_counter()
        with warehouse.connect(tmp / "warehouse.duckdb") as con:
            stats = ingest.ingest_files(con, ingest.changed_files(con, ingest.landing_files(landing)),
                                        workers=workers)
            t_parse = time.perf_counter() - t0
            day = ingest.build_day(con, DAY)
        elapsed = time.perf_counter() - t0
    return elapsed, t_parse, stats, day, rss.peak


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--spans", type=int, default=1_000_000)
    p.add_argument("--files", type=int, default=20)
    p.add_argument("--workers", type=int, default=None, help="parser processes (default: one per core)")
    p.add_argument("--keep", action="store_true", help="keep the generated files and warehouses")
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    landing = tmp / "landing"
    try:
        t0 = time.perf_counter()
        gen = synthetic.generate_bulk(landing, DAY, args.spans, files=args.files)
        size = sum(f.stat().st_size for f in landing.rglob("*") if f.is_file())
        files = [str(f) for f in ingest.landing_files(landing)]
        print(f"generated {gen} ({size / 2**20:.0f} MiB in {len(files)} files) in {time.perf_counter() - t0:.1f} s")
        print(f"machine: {os.cpu_count()} cores, duckdb {duckdb.__version__}")

        ref_s, ref_n, ref_rss = run_duckdb_reference(files, tmp)
        print(f"duckdb read_json flatten : {ref_n:>9} spans in {ref_s:6.2f} s = {ref_n / ref_s:>9,.0f} spans/s, "
              f"peak RSS {gib(ref_rss)}")

        ours_s, parse_s, stats, day, ours_rss = run_ours(landing, tmp, args.workers)
        print(f"eval_pipeline ingest     : {stats.spans:>9} spans in {ours_s:6.2f} s = "
              f"{stats.spans / ours_s:>9,.0f} spans/s, peak RSS {gib(ours_rss)} "
              f"(parse+store {parse_s:.2f} s of which storing {stats.store_seconds:.2f} s, day rollup {ours_s - parse_s:.2f} s; "
              f"{day.traces} traces, {day.spans} spans, {stats.quarantined} quarantined)")
        print(f"ratio to duckdb          : {(stats.spans / ours_s) / (ref_n / ref_s):.0%} of its speed")
        print(f"target (design.md 7)     : 1M spans <= 30 s, peak RSS <= 3 GiB, >= 50% of duckdb")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
