"""Contract: landing-zone files are read once per (size, mtime) into the Parquet cache, in parallel or not with
the same rows; bad files are quarantined without losing their neighbours; a deleted cache is rebuilt from the
landing zone; temporary and hidden files are skipped; a landed file belongs to its day folder, else to the day
it was written."""

import datetime as dt
import gzip
import os
from pathlib import Path

import orjson
import pytest

from eval_pipeline.lib import ingest, warehouse
from eval_pipeline_tests.support import otlp_builders as b
from eval_pipeline_tests.support.landing import DAY, T, agent_trace, rows, run_day, write


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "wh.duckdb", tmp_path / "landing"


def test_ingest_bad_files_are_quarantined_and_good_data_kept(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    good = orjson.dumps(b.request(agent_trace(b.new_trace_id(), T)))
    (landing).mkdir(parents=True)
    (landing / "mixed.jsonl").write_bytes(good + b"\n{oops\n" + orjson.dumps(
        b.request(agent_trace(b.new_trace_id(), T))) + b"\n")  # defect: line 2 is malformed JSON
    (landing / "empty.json").write_bytes(b"")  # defect: empty file
    (landing / "cut.json.gz").write_bytes(gzip.compress(good)[:-30])  # defect: truncated gzip
    (landing / "logs.json").write_bytes(b'{"resourceLogs": []}')  # defect: wrong shape
    landed = b.ns(T)
    for name in ("empty.json", "cut.json.gz", "logs.json"):  # no span to date them: they count when they landed
        os.utime(landing / name, ns=(landed, landed))
    (landing / "old.json").write_bytes(b"")  # defect: empty, and landed on another day
    os.utime(landing / "old.json", ns=(landed - 5 * 86_400 * 10**9,) * 2)
    result = run_day(db, landing)
    assert result.traces == 2
    q = rows(db, "SELECT source_file, position, reason FROM quarantine ORDER BY source_file, position")
    by_file = {Path(r["source_file"]).name for r in q}
    assert by_file == {"mixed.jsonl", "empty.json", "cut.json.gz", "logs.json", "old.json"}
    assert any(r["position"] == 2 and Path(r["source_file"]).name == "mixed.jsonl" for r in q)
    with warehouse.connect(db) as con:
        quarantined, spans, share = ingest.quarantine_share(con, DAY)
    assert spans == 8 and quarantined == len(q) - 1  # all but old.json
    assert share == pytest.approx(quarantined / (quarantined + spans))


def test_ingest_reads_a_file_again_only_when_it_changed(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    f = write(landing / "a.jsonl", agent_trace(b.new_trace_id(), T))
    with warehouse.connect(db) as con:
        assert ingest.changed_files(con, ingest.landing_files(landing)) == [str(f)]
        ingest.ingest_files(con, [str(f)], workers=1)
        assert ingest.changed_files(con, ingest.landing_files(landing)) == []
        with f.open("ab") as fh:  # the collector appends another line
            fh.write(b"\n" + orjson.dumps(b.request(agent_trace(b.new_trace_id(), T))))
        assert ingest.changed_files(con, ingest.landing_files(landing)) == [str(f)]
        ingest.ingest_files(con, [str(f)], workers=1)
        assert con.execute("SELECT sum(span_count) FROM landing_files").fetchall()[0][0] == 8
        assert len(list(ingest.cache_dir(con).glob("*.parquet"))) == 1  # the first version was replaced


def test_ingest_parallel_workers_give_the_same_rows(paths: tuple[Path, Path], tmp_path: Path) -> None:
    db, landing = paths
    for i in range(4):
        write(landing / f"f{i}.json", agent_trace(b.new_trace_id(), T))
    run_day(db, landing)
    db2 = tmp_path / "wh2.duckdb"
    with warehouse.connect(db2) as con:
        ingest.ingest_files(con, ingest.changed_files(con, ingest.landing_files(landing)), workers=2)
        ingest.build_day(con, DAY)
    q = "SELECT * EXCLUDE (root_span_id) FROM raw_traces ORDER BY trace_id"
    assert rows(db2, q) == rows(db, q)


def test_ingest_rebuilds_a_deleted_cache_from_the_landing_zone(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    write(landing / "a.json", agent_trace(b.new_trace_id(), T))
    assert run_day(db, landing).spans == 4
    with warehouse.connect(db) as con:
        cache = ingest.cache_dir(con)
    for f in cache.glob("*.parquet"):  # someone cleaned up the cache folder
        f.unlink()
    result = run_day(db, landing)
    assert (result.traces, result.spans) == (1, 4)


def test_landing_files_skips_temporary_hidden_and_non_trace_files(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    kept = [write(landing / "a.json", []), write(landing / "receiver" / "2026-11-20" / "b.binpb", [])]
    for name in ("c.json.tmp", "d.jsonl.part", ".e.json", "README.md", "wh.duckdb.wal"):  # not trace data
        write(landing / name, [])
    assert ingest.landing_files(landing) == sorted(kept)
    assert ingest.landing_files(tmp_path / "missing") == []


def test_file_day_prefers_a_day_folder_else_the_utc_day_written() -> None:
    late = b.ns(dt.datetime(2026, 11, 21, 23, 59, 59))
    assert ingest.file_day(Path("landing/receiver/2026-11-20/x.pb"), late) == "2026-11-20"
    assert ingest.file_day(Path("landing/2026-11-19/sub/x.pb"), late) == "2026-11-19"  # the nearest day folder
    assert ingest.file_day(Path("landing/2026-11-19.json"), late) == "2026-11-21"  # a file name is not a folder
    assert ingest.file_day(Path("landing/x.json"), late) == "2026-11-21"


def test_landed_since_lists_the_days_of_newer_files_and_the_newest_time(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    old = write(landing / "receiver" / "2026-11-19" / "old.json", [])
    new = write(landing / "receiver" / "2026-11-20" / "new.json", [])
    flat = write(landing / "flat.json", [])
    for f, t in ((old, dt.datetime(2026, 11, 19, 12)), (new, dt.datetime(2026, 11, 20, 12)),
                 (flat, dt.datetime(2026, 11, 22, 8))):
        os.utime(f, ns=(b.ns(t), b.ns(t)))
    cursor = b.ns(dt.datetime(2026, 11, 20))
    assert ingest.landed_since(landing, cursor) == (["2026-11-20", "2026-11-22"], b.ns(dt.datetime(2026, 11, 22, 8)))
    newest = ingest.landed_since(landing, cursor)[1]
    assert ingest.landed_since(landing, newest) == ([], newest)  # nothing new since
