"""Contract of ``eval_pipeline.synthetic.generate``: it writes identical files for a seed, keeps every
timestamp inside the requested days and refuses an empty range.
"""

from pathlib import Path

import pytest

from eval_pipeline.synthetic import generate
from eval_pipeline_tests.synthetic.readback import DAY0_NS, DAYS, DAY_NS, START, files


def test_generate_writes_identical_files_for_a_seed(tmp_path: Path) -> None:
    s1 = generate(tmp_path / "a", START, 1, sessions_per_day=6, seed=3)
    s2 = generate(tmp_path / "b", START, 1, sessions_per_day=6, seed=3)
    s3 = generate(tmp_path / "c", START, 1, sessions_per_day=6, seed=4)
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in files(tmp_path / "a")}
    second = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in files(tmp_path / "b")}
    third = {p.relative_to(tmp_path / "c"): p.read_bytes() for p in files(tmp_path / "c")}
    assert s1 == s2
    assert first == second
    assert first != third
    assert s3["traces"] > 0


def test_generate_timestamps_stay_inside_the_days(landed) -> None:
    _, _, _, reads, _ = landed
    spans = [s for r in reads.values() for s in r.spans]
    assert spans
    assert all(DAY0_NS <= s.start_ns <= s.end_ns < DAY0_NS + DAYS * DAY_NS for s in spans)


def test_generate_rejects_an_empty_range(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate(tmp_path, START, 0)
