""":func:`generate`: the planned traffic, encoded in its conventions, cut into files of every format with the
delivery defects planted, written into a landing directory's day folders as an exporter would have."""

import datetime
import math
import os
import random
from pathlib import Path

from eval_pipeline.synthetic.conventions import encode
from eval_pipeline.synthetic.defects import Malformed, duplicate_spans, plant_malformed, split_traces
from eval_pipeline.synthetic.plans import DAY_NS, ERROR_RATE, NS, TracePlan, day_ns, plan_traffic
from eval_pipeline.synthetic.writers import FORMATS, Batch, file_contents


def generate(landing_dir: Path, start: datetime.date, days: int, sessions_per_day: int = 30, seed: int = 7,
             malformed: bool = True, error_rate: float = ERROR_RATE) -> dict:
    """Write synthetic agent traffic for ``days`` UTC days from ``start`` under ``landing_dir/<YYYY-MM-DD>/``.

    Returns a summary: files, spans (distinct spans written), traces, malformed_files, duplicate_spans,
    split_traces, formats and conventions (counts), damaged_traces (ids of traces a malformed file cuts or
    alters: read them back and they differ from :func:`plan_traffic`).
    """
    landing_dir = Path(landing_dir)
    plans = plan_traffic(start, days, sessions_per_day, seed, error_rate)
    rng = random.Random(f"delivery-{seed}")
    day0 = day_ns(start)

    by_day: dict[int, list[TracePlan]] = {}
    for p in sorted(plans, key=lambda p: (p.end_ns, p.trace_id)):
        by_day.setdefault((p.end_ns - day0) // DAY_NS, []).append(p)
    batches = _batches(by_day, rng)
    planted = plant_malformed(batches, by_day, day0, rng) if malformed else Malformed()
    n_split = split_traces(batches, by_day, planted.damaged, rng)
    n_duplicated = duplicate_spans(batches, by_day, planted.huge_span, rng)

    files = planted.files + file_contents(batches, day0, rng)
    files.sort(key=lambda f: (f[0], f[1]))
    for seq, (d, export, ext, data) in enumerate(files):
        folder = landing_dir / (start + datetime.timedelta(days=d)).isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"otlp-{_stamp(export)}-{seq:05d}.{ext}"
        path.write_bytes(data)
        os.utime(path, ns=(export, export))  # as if written by the exporter at export time

    formats: dict[str, int] = {}
    for _, _, ext, _ in files:
        formats[ext] = formats.get(ext, 0) + 1
    conventions: dict[str, int] = {}
    for p in plans:
        conventions[p.family] = conventions.get(p.family, 0) + 1
    return {
        "files": len(files), "spans": sum(p.n_spans for p in plans), "traces": len(plans),
        "malformed_files": sum(1 for b in batches if b.defect) + len(planted.files) + (1 if planted.huge_span else 0),
        "duplicate_spans": n_duplicated, "split_traces": n_split, "formats": formats,
        "conventions": conventions, "damaged_traces": sorted(planted.damaged),
    }


def _batches(by_day: dict[int, list[TracePlan]], rng: random.Random) -> list[Batch]:
    """Each day's traces in the order they ended, cut into files of about six traces, the formats by turns."""
    batches: list[Batch] = []
    for d in sorted(by_day):
        ps = by_day[d]
        k = max(min(len(ps), len(FORMATS)), math.ceil(len(ps) / 6))
        cuts = sorted(rng.sample(range(1, len(ps)), k - 1))
        offset = rng.randrange(len(FORMATS))
        for i, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(ps)], strict=True)):
            chunk = ps[a:b]
            batches.append(Batch(d, [s for p in chunk for s in encode(p)], FORMATS[(offset + i) % len(FORMATS)],
                                 [p.trace_id for p in chunk]))
    return batches


def _stamp(ns: int) -> str:
    return datetime.datetime.fromtimestamp(ns // NS, tz=datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
