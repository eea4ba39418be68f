"""Contract of ``eval_pipeline.synthetic.defects``: each malformed file yields a problem while the good spans
around it are kept, without them the traffic reads cleanly, and the delivery defects (duplicates, split traces,
a trace crossing midnight) are really in the files.
"""

import collections
import re
from pathlib import Path

from eval_pipeline.lib.ingest import readers
from eval_pipeline.synthetic import generate
from eval_pipeline_tests.synthetic.readback import DAY0_NS, DAY_NS, START, read


def test_generate_malformed_files_report_problems_and_keep_good_spans(landed) -> None:
    _, summary, _, reads, _ = landed
    problems = {f: r for f, r in reads.items() if r.problems}
    reasons = [p.reason for r in problems.values() for p in r.problems]
    assert summary["malformed_files"] == len(problems) == 5

    def only(pattern: str, unless: str = "^$") -> readers.FileRead:
        (hit,) = [r for r in problems.values() if any(re.search(pattern, p.reason) for p in r.problems)
                  and not any(re.search(unless, p.reason) for p in r.problems)]
        return hit

    assert not only("empty file").spans
    assert not only("logs or metrics export").spans
    truncated = only("truncated gzip")
    assert truncated.spans  # the readable prefix is kept
    # a broken line in the middle of an otherwise good JSON-lines file: the lines around it are kept
    bad_line = only(r"malformed JSON on line \d+:", unless="gzip")
    assert len(bad_line.problems) == 1
    assert len(bad_line.spans) >= 2 and bad_line.fmt == "otlp-jsonl"
    huge = only("over the 1048576 limit")
    assert any("[dropped:" in str(v) for s in huge.spans for v in s.attributes.values())
    assert len(reasons) >= 5


def test_generate_without_malformed_reads_cleanly(tmp_path: Path) -> None:
    summary = generate(tmp_path, START, 1, sessions_per_day=8, seed=5, malformed=False)
    reads, rows = read(tmp_path)
    assert [p.reason for r in reads.values() for p in r.problems] == []
    assert summary["malformed_files"] == 0 and summary["damaged_traces"] == []
    assert sum(len(spans) for spans in rows.values()) == summary["spans"]


def test_generate_delivers_duplicates_split_traces_and_a_midnight_trace(landed) -> None:
    _, summary, plans, reads, rows = landed
    where: dict[tuple[str, str], set[Path]] = collections.defaultdict(set)
    trace_files: dict[str, set[Path]] = collections.defaultdict(set)
    for f, r in reads.items():
        for s in r.spans:
            where[(s.trace_id, s.span_id)].add(f)
            trace_files[s.trace_id].add(f)
    twice = [k for k, fs in where.items() if len(fs) > 1]
    assert len(twice) >= summary["duplicate_spans"] >= 2
    split = [t for t, fs in trace_files.items() if len(fs) > 1]
    assert len(split) >= summary["split_traces"] >= 2
    midnight = DAY0_NS + DAY_NS
    crossing = [p for p in plans.values() if p.start_ns < midnight < p.end_ns]
    assert len(crossing) == 1
    spans = rows[crossing[0].trace_id]
    assert spans[crossing[0].root_span_id]["start_ns"] < midnight
    assert all(r["start_ns"] >= midnight for r in spans.values() if r["parent_span_id"])
