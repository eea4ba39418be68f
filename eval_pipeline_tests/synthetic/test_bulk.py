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


def _shapes(folder: Path) -> tuple[set[str], set[str]]:
    """The span names written (what the planned traces look like) and the trace ids (the copies)."""
    reads, _ = read(folder)
    spans = [s for r in reads.values() for s in r.spans]
    return {s.name for s in spans}, {s.trace_id for s in spans}


def test_days_of_one_template_seed_are_one_population_with_fresh_copies(tmp_path: Path) -> None:
    """What the soak's steady traffic rests on: the same planned traces every day, drawn anew."""
    days = [datetime.date(2026, 10, d) for d in (1, 2, 3)]
    generate_bulk(tmp_path / "a", days[0], 20_000, files=1, seed=1, template_seed=7)
    generate_bulk(tmp_path / "b", days[1], 20_000, files=1, seed=2, template_seed=7)
    generate_bulk(tmp_path / "c", days[2], 20_000, files=1, seed=3)
    (names_a, ids_a), (names_b, ids_b), (names_c, _) = (_shapes(tmp_path / x) for x in "abc")
    assert names_a == names_b and not ids_a & ids_b
    assert names_a != names_c
