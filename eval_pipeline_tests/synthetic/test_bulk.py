"""Contract of ``eval_pipeline.synthetic.generate_bulk``: it writes about the requested number of well-formed,
distinct spans of every convention family, in one day, as Collector JSON lines.
"""

import datetime
from pathlib import Path

from eval_pipeline.synthetic import FAMILIES, generate_bulk
from eval_pipeline_tests.synthetic.readback import DAY0_NS, DAY_NS, read


def test_generate_bulk_writes_about_the_requested_span_count(tmp_path: Path) -> None:
    day = datetime.date(2026, 3, 3)
    summary = generate_bulk(tmp_path, day, n_spans=2500, files=3, seed=2)
    reads, rows = read(tmp_path)
    assert len(reads) == 3 and all(f.suffix == ".jsonl" and f.parent.name == "2026-03-03" for f in reads)
    assert [p.reason for r in reads.values() for p in r.problems] == []
    spans = [s for r in reads.values() for s in r.spans]
    assert len(spans) == summary["spans"]
    assert 2500 <= len(spans) < 2500 + 60
    assert len({(s.trace_id, s.span_id) for s in spans}) == len(spans)
    assert len(rows) == summary["traces"]
    lo = DAY0_NS + 2 * DAY_NS
    assert all(lo <= s.start_ns <= s.end_ns < lo + DAY_NS for s in spans)
    assert all(r.fmt == "otlp-jsonl" for r in reads.values())
    families = {c for t in rows.values() for r in t.values() for c in r["conventions"]}
    assert set(FAMILIES) <= families
    roots = [r for t in rows.values() for r in t.values() if r["parent_span_id"] is None]
    assert len(roots) == summary["traces"]
    assert all(r["session_id"] for r in roots)
