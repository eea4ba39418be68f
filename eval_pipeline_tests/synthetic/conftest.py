"""``landed``: two days of synthetic traffic written once for the synthetic tests, with its plans and read back."""

from pathlib import Path

import pytest

from eval_pipeline.synthetic import generate, plan_traffic
from eval_pipeline_tests.synthetic.readback import DAYS, SESSIONS, START, read


@pytest.fixture(scope="package")
def landed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict, dict, dict]:
    """(landing root, generate's summary, plans by trace id, reads by file, canonical rows by trace and span)."""
    root = tmp_path_factory.mktemp("landing")
    summary = generate(root, START, DAYS, sessions_per_day=SESSIONS, seed=7)
    plans = {p.trace_id: p for p in plan_traffic(START, DAYS, sessions_per_day=SESSIONS, seed=7)}
    reads, rows = read(root)
    return root, summary, plans, reads, rows
