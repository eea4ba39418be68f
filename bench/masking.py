"""Masking benchmark: MB/s of trace text masked on a large partition, and peak RSS.

A day of generated agent traffic is ingested into a scratch warehouse; its raw_traces are then scaled
up to the requested size by copies whose e-mail addresses and digits differ (every copy's personal data
is distinct, so validation and pseudonyms are paid for again, as on real traffic). Printed, measured in
the same run on the same texts:

- ``mask_frame``: the whole masked_traces step on the frame (every text column, tool calls and
  retrieved documents exploded, masked, rebuilt; ids pseudonymised);
- ``mask_series``: the vectorised masker on the flat column of texts;
- the reference: the same detectors through a plain Python ``re`` loop, one string at a time
  (``masking.reference.mask_text_re``), on a sample of the texts (it is slow), with the ratio;
- with ``--names N``: the name tier (Presidio over spaCy, what eval_dataset records get) on N records of the
  generated day (request, response, retrieved documents, tool calls and error), in records per second;
- with ``--baseline DIR``: ``mask_frame`` of another source tree (e.g. ``git worktree add /tmp/old <commit>``)
  and of this one on the same partition, each in a fresh process, alternating ``--repeat`` times, so a
  loaded machine slows both alike; the ratio is the figure to trust there (``--one-chunk``: both trees
  mask the column in one piece, one thread, to compare the CPU each needs).

    .venv/bin/python bench/masking.py --mb 50 --names 500
    .venv/bin/python bench/masking.py --mb 50 --baseline /tmp/old --repeat 3
"""

import argparse
import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PeakRSS, gib  # noqa: E402

from eval_pipeline import synthetic  # noqa: E402
from eval_pipeline.lib import ingest, masking, warehouse  # noqa: E402
from eval_pipeline.lib.masking.reference import mask_text_re  # noqa: E402

DAY = dt.date(2026, 11, 20)
KEY = b"bench-masking-key"


def day_frame(tmp: Path, sessions: int) -> pl.DataFrame:
    landing = tmp / "landing"
    synthetic.generate(landing, DAY, 1, sessions_per_day=sessions, seed=11)
    with warehouse.connect(tmp / "warehouse.duckdb") as con:
        ingest.ingest_files(con, ingest.changed_files(con, ingest.landing_files(landing)))
        ingest.build_day(con, DAY)
        return con.sql("FROM raw_traces WHERE trace_date = $day", params={"day": DAY}).pl()


def _texts_expr(c: str, k: int, digits: list[str]) -> pl.Expr:
    return pl.col(c).str.replace_all("@", f"{k}@", literal=True).str.replace_many(list("0123456789"), digits)


def scaled(base: pl.DataFrame, target_mb: float) -> pl.DataFrame:
    """Copies of ``base`` until its text reaches ``target_mb``; each copy's addresses and digits differ."""
    per_copy = masking.text_bytes(base) / 1e6
    copies = max(1, round(target_mb / per_copy))
    rng = random.Random(5)
    out = []
    for k in range(copies):
        digits = list("0123456789")
        rng.shuffle(digits)
        out.append(base.with_columns(
            pl.col("trace_id") + f"-{k}",
            *(_texts_expr(c, k, digits) for c in ("request", "response", "error_message")),
            pl.col("retrieved_context").list.eval(
                pl.element().str.replace_all("@", f"{k}@", literal=True)
                .str.replace_many(list("0123456789"), digits)),
            pl.col("tool_calls").list.eval(pl.element().struct.with_fields(
                pl.field("arguments").str.replace_all("@", f"{k}@", literal=True)
                .str.replace_many(list("0123456789"), digits),
                pl.field("result").str.replace_all("@", f"{k}@", literal=True)
                .str.replace_many(list("0123456789"), digits))),
            pl.col("user_id") + f"-{k}", pl.col("session_id") + f"-{k}",
        ))
    return pl.concat(out).rechunk()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mb", type=float, default=50.0, help="MB of trace text in the partition")
    p.add_argument("--sessions", type=int, default=300, help="generated sessions in the base day")
    p.add_argument("--reference-share", type=float, default=0.05,
                   help="share of the texts the plain-re reference masks (it is slow)")
    p.add_argument("--names", type=int, default=0, help="records of the day the name tier masks (0: skip)")
    p.add_argument("--baseline", type=Path, help="another source tree to time mask_frame of, side by side")
    p.add_argument("--repeat", type=int, default=3, help="alternating runs of each tree with --baseline")
    p.add_argument("--one-chunk", action="store_true", help="with --baseline: no split of the column into chunks")
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-masking-"))
    try:
        t0 = time.perf_counter()
        base = day_frame(tmp, args.sessions)
        frame = scaled(base, args.mb)
        mb = masking.text_bytes(frame) / 1e6
        flat = masking.texts_of(frame)
        print(f"partition: {frame.height:,} traces ({base.height:,} generated x {frame.height // base.height}), "
              f"{flat.len():,} texts, {mb:.1f} MB of text; built in {time.perf_counter() - t0:.1f} s")
        print(f"machine: {os.cpu_count()} cores, polars {pl.__version__}, load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")

        with PeakRSS() as rss:
            t0, c0 = time.perf_counter(), time.process_time()
            masked, counts = masking.mask_frame(frame, KEY)
            frame_s, frame_cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"mask_frame  : {mb / frame_s:7.1f} MB/s wall ({frame_s:.2f} s), {mb / frame_cpu:.1f} MB/s per CPU "
              f"second; peak RSS {gib(rss.peak)}; entities {dict(sorted(counts.items()))}")

        t0, c0 = time.perf_counter(), time.process_time()
        result = masking.mask_series(flat, KEY)
        series_s, series_cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"mask_series : {mb / series_s:7.1f} MB/s wall ({series_s:.2f} s), {mb / series_cpu:.1f} MB/s per CPU "
              "second")

        n = max(1, int(flat.len() * args.reference_share))
        sample = flat.head(n).to_list()
        sample_mb = sum(len(t.encode()) for t in sample if t) / 1e6
        ref_counts: Counter = Counter()
        t0, c0 = time.perf_counter(), time.process_time()
        ref = [mask_text_re(t, KEY, ref_counts) for t in sample]
        ref_s, ref_cpu = time.perf_counter() - t0, time.process_time() - c0
        same = sum(a == b for a, b in zip(ref, result.texts.head(n).to_list(), strict=True))
        print(f"python re   : {sample_mb / ref_s:7.1f} MB/s wall, {sample_mb / ref_cpu:.1f} MB/s per CPU second "
              f"({ref_s:.2f} s on {sample_mb:.1f} MB, "
              f"{same / n:.2%} of outputs identical to mask_series)")
        print(f"ratio       : mask_frame {(mb / frame_s) / (sample_mb / ref_s):.0f}x, "
              f"mask_series {(mb / series_s) / (sample_mb / ref_s):.0f}x the plain re loop (wall); "
              f"{(mb / frame_cpu) / (sample_mb / ref_cpu):.0f}x, "
              f"{(mb / series_cpu) / (sample_mb / ref_cpu):.0f}x (CPU)")
        print("target (design.md 7): >= 50 MB/s of trace text")
        if args.names:
            _names(base.head(args.names))
        if args.baseline:
            _side_by_side(frame, tmp, args.baseline, args.repeat, args.one_chunk)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# One timed mask_frame in a fresh process, on the tree of its PYTHONPATH; as in main(), the frame has been
# measured (text_bytes) first, so Arrow's first-use costs fall outside the timing; the detectors' own caches
# (libphonenumber's metadata, the digit runs decided) start cold.
_TIMED = """
import sys, time
import polars as pl
from eval_pipeline.lib import masking
from eval_pipeline.lib.masking import engine
df = pl.read_parquet(sys.argv[1])
masking.text_bytes(df)
if sys.argv[2:] == ["one-chunk"]:
    engine._CHUNK_TEXTS = 1 << 40
t0, c0 = time.perf_counter(), time.process_time()
masking.mask_frame(df, b"bench-masking-key")
print(time.perf_counter() - t0, time.process_time() - c0)
"""


def _side_by_side(frame: pl.DataFrame, tmp: Path, baseline: Path, repeat: int, one_chunk: bool) -> None:
    """mask_frame of ``baseline`` and of this tree on the same partition, alternating, each in its own process."""
    path = tmp / "partition.parquet"
    frame.write_parquet(path)
    mb = masking.text_bytes(frame) / 1e6
    trees = {"baseline": baseline.resolve(), "this tree": Path(__file__).resolve().parent.parent}
    walls: dict[str, list[float]] = {name: [] for name in trees}
    for r in range(repeat):
        for name, tree in trees.items():
            env = {**os.environ, "PYTHONPATH": str(tree)}
            out = subprocess.run([sys.executable, "-c", _TIMED, str(path), *(["one-chunk"] if one_chunk else [])],
                                 env=env, check=True,
                                 capture_output=True, text=True).stdout.split()
            wall, cpu = float(out[-2]), float(out[-1])
            walls[name].append(mb / wall)
            print(f"run {r + 1} {name:9s}: {mb / wall:7.1f} MB/s wall, {mb / cpu:.1f} MB/s per CPU second "
                  f"({tree}; load average {os.getloadavg()[0]:.2f})", flush=True)
    ratios = [a / b for a, b in zip(walls["this tree"], walls["baseline"], strict=True)]
    print(f"side by side: this tree {max(walls['this tree']):.1f} MB/s best, baseline "
          f"{max(walls['baseline']):.1f} MB/s best; ratio per run {', '.join(f'{x:.2f}' for x in ratios)}")


def _names(records: pl.DataFrame) -> None:
    """The name tier's speed on a day's records, as eval_dataset runs it (one record = its request, response,
    retrieved documents, tool calls and error, names shared across them)."""
    tier = masking.load_name_tier("presidio")
    if tier.detector is None:
        print(f"name tier   : unavailable ({tier.status})")
        return
    records = records.select("trace_id", "request", "response", "retrieved_context", "tool_calls", "error_message")
    n = records.height
    t0, c0 = time.perf_counter(), time.process_time()
    _, found = masking.mask_records(records, KEY, tier.detector)
    s, cpu = time.perf_counter() - t0, time.process_time() - c0
    mb = masking.text_bytes(records) / 1e6
    print(f"name tier   : {n / s:7.1f} records/s wall, {n / cpu:.1f} per CPU second ({n} records, {mb:.2f} MB, "
          f"{s:.1f} s, {mb / s:.3f} MB/s; {tier.status}); names {dict(sorted(Counter(found['kind']).items()))}")


if __name__ == "__main__":
    main()
