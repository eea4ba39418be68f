"""Contract: the Parquet cache holds only what landing files refer to (what a killed run left is pruned by the
next run); a file, or its decompressed content, over the size limit (``ingest.max_file_mb``) is quarantined
unread with a reason; every gzip member is read; retention (``retention.span_days``) drops old spans and their
cached Parquet but keeps the days' traces and never rebuilds them from what is left; a warehouse from before
``landed_spans`` is indexed on its next run."""

import datetime as dt
import gzip
from pathlib import Path

import orjson
import pytest

from eval_pipeline.lib import ingest, warehouse
from eval_pipeline.lib.config import Config, Ingest, Retention
from eval_pipeline.lib.ingest import files
from eval_pipeline_tests.support import otlp_builders as b
from eval_pipeline_tests.support.landing import DAY, T, agent_trace, rows, run_day, write


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "wh.duckdb", tmp_path / "landing"


def _ingest(db: Path, landing: Path, day: dt.date = DAY, **kw: object) -> ingest.DayIngest:
    with warehouse.connect(db) as con:
        return ingest.ingest_day(con, landing, day, workers=1, **kw)


def test_ingest_day_prunes_what_a_killed_run_left_in_the_cache(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    write(landing / "a.json", agent_trace(b.new_trace_id(), T))
    _ingest(db, landing)
    with warehouse.connect(db) as con:
        cache = ingest.cache_dir(con)
    kept = sorted(cache.glob("*.parquet"))
    # defect: a run killed after its workers wrote Parquet (and one half-written file), before registering them
    late = write(landing / "b.json", agent_trace(b.new_trace_id(), T))
    orphan = Path(files.parse_file(str(late), str(cache)).parquet)
    half = cache / "tmpx1y2z3.parquet.tmp"
    half.write_bytes(b"PAR1 half written")
    late.unlink()  # and its landing file is gone, so nothing will ever refer to that Parquet
    r = _ingest(db, landing)
    assert r.cache_files_pruned == 2
    assert sorted(cache.glob("*.parquet*")) == kept and not orphan.exists() and not half.exists()
    assert r.spans == 4


def test_ingest_file_over_the_size_limit_is_quarantined_unread(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    write(landing / "a.json", agent_trace(b.new_trace_id(), T))
    big = landing / "big.json"
    with big.open("wb") as fh:
        fh.truncate(3 << 20)  # defect: a 3 MiB sparse file (of zeros), over a 1 MiB limit
    r = _ingest(db, landing, config=Config(ingest=Ingest(max_file_mb=1)))
    assert (r.traces, r.quarantined_this_run) == (1, 1)
    [q] = rows(db, "SELECT source_file, reason FROM quarantine")
    assert Path(q["source_file"]).name == "big.json"
    assert "3.0 MiB, over the 1 MiB limit (ingest.max_file_mb); not read" in q["reason"]
    assert rows(db, "SELECT format FROM landing_files WHERE source_file = $f", {"f": str(big)})[0]["format"] == \
        "too-large"


def test_read_file_sparse_2_gib_file_is_not_read_at_the_default_limit(tmp_path: Path) -> None:
    big = tmp_path / "sparse.pb"
    with big.open("wb") as fh:
        fh.truncate(2 << 30)  # defect: 2 GiB of holes
    read = ingest.read_file(big)
    assert (read.fmt, read.spans) == ("too-large", [])
    assert "2048.0 MiB, over the 256 MiB limit" in read.problems[0].reason


def test_read_bytes_gzip_that_decompresses_past_the_limit_is_quarantined() -> None:
    bomb = gzip.compress(b" " * (8 << 20))  # defect: 8 MiB of blanks in a few kB
    read = ingest.read_bytes(bomb, max_bytes=1 << 20)
    assert (read.fmt, read.spans) == ("too-large", [])
    assert "decompresses to more than 1.0 MiB" in read.problems[0].reason


def test_read_bytes_reads_every_gzip_member() -> None:
    one, two = (orjson.dumps(b.request(agent_trace(b.new_trace_id(), T))) + b"\n" for _ in range(2))
    read = ingest.read_bytes(gzip.compress(one) + gzip.compress(two))  # `cat a.gz b.gz`: two members
    assert (len(read.spans), read.problems) == (8, [])


def test_retention_drops_old_spans_and_cache_and_keeps_the_days_traces(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    old, new = DAY, DAY + dt.timedelta(days=10)
    write(landing / "old.json", agent_trace(b.new_trace_id(), T))
    write(landing / "new.json", agent_trace(b.new_trace_id(), T + dt.timedelta(days=10)))
    _ingest(db, landing, old)
    before = rows(db, "SELECT * FROM raw_traces WHERE trace_date = $d", {"d": old})
    keep = Config(retention=Retention(span_days=7))
    r = _ingest(db, landing, new, config=keep, today=new)
    assert (r.retention.cutoff, r.retention.spans, r.retention.files, r.retention.days) == (
        new - dt.timedelta(days=7), 4, 1, [old])
    assert rows(db, "SELECT trace_date, count(*) AS n FROM spans GROUP BY 1") == [{"trace_date": new, "n": 4}]
    assert rows(db, "SELECT * FROM raw_traces WHERE trace_date = $d", {"d": old}) == before  # aggregates kept
    with warehouse.connect(db) as con:
        assert len(list(ingest.cache_dir(con).glob("*.parquet"))) == 1
        assert ingest.changed_files(con, ingest.landing_files(landing)) == []  # the expired file is not read again
    again = _ingest(db, landing, old, config=keep, today=new)  # someone re-runs the old day
    assert (again.rebuilt, again.traces, again.spans) == (False, 1, 0)
    assert rows(db, "SELECT * FROM raw_traces WHERE trace_date = $d", {"d": old}) == before


def test_retention_is_off_by_default(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    write(landing / "old.json", agent_trace(b.new_trace_id(), T))
    _ingest(db, landing)
    r = _ingest(db, landing, today=DAY + dt.timedelta(days=3650))
    assert (r.retention.cutoff, r.rebuilt, r.spans) == (None, True, 4)


def test_ingest_day_indexes_a_warehouse_from_before_landed_spans(paths: tuple[Path, Path]) -> None:
    db, landing = paths
    write(landing / "a.json", agent_trace(b.new_trace_id(), T))
    run_day(db, landing)
    with warehouse.connect(db) as con:  # what an older version left: no landed_spans rows, nothing marked
        con.execute("DELETE FROM landed_spans")
        con.execute("UPDATE landing_files SET indexed = NULL")
    assert _ingest(db, landing).spans == 4
    assert rows(db, "SELECT count(*) AS n FROM landed_spans")[0]["n"] == 4
