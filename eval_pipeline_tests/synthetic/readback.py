"""The traffic the synthetic tests share, read back with the project's own readers (``readers.read_file`` and
``normalize.normalize_span``), and the dates it covers."""

import collections
import datetime
from pathlib import Path

from eval_pipeline.lib.ingest import normalize
from eval_pipeline.lib.ingest import readers

START = datetime.date(2026, 3, 1)
DAYS = 2
SESSIONS = 12
DAY0_NS = int(datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC).timestamp()) * 1_000_000_000
DAY_NS = 86_400 * 1_000_000_000


def files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def read(root: Path) -> tuple[dict[Path, readers.FileRead], dict[str, dict[str, dict]]]:
    """Every file read, and the canonical rows by trace id and span id."""
    reads = {f: readers.read_file(f) for f in files(root)}
    rows: dict[str, dict[str, dict]] = collections.defaultdict(dict)
    for r in reads.values():
        for s in r.spans:
            rows[s.trace_id][s.span_id] = dict(zip(normalize.COLUMNS, normalize.normalize_span(s), strict=True))
    return reads, rows
