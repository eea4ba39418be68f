"""Contract: on a day of 1,500 traces of the synthetic generator's traffic (eval_pipeline.synthetic.generate:
every convention, ten models, a long tail of tool paths), ingested, masked and selected with the default
sampling config, the merged strata carry data: the median number of drawn records per stratum is at least 5
(unmerged, the four dimensions give hundreds of cells of one to three traces), and the dataset stays near
its target size."""

import datetime as dt
import statistics
from pathlib import Path

import pytest

from eval_pipeline import synthetic
from eval_pipeline.lib import masking, sampling, warehouse
from eval_pipeline.lib.config import Privacy, Sampling
from eval_pipeline.lib.ingest import ingest_day

DAY = dt.date(2026, 11, 20)


@pytest.mark.slow
def test_selection_of_a_synthetic_day_has_at_least_five_records_per_stratum(tmp_path: Path) -> None:
    synthetic.generate(tmp_path / "landing", DAY, 1, sessions_per_day=605, seed=7, malformed=False)
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        ingest_day(con, tmp_path / "landing", DAY, workers=1)
        masking.write_day(con, DAY, masking.mask_day(con, DAY, Privacy(), b"test-key").masked)
        sel = sampling.select_day(con, DAY, Sampling())
        strata = sampling.strata(con, DAY)
        cells = con.execute("SELECT count(*), median(traces) FROM eval_dataset_cells").fetchall()[0]
    assert 1400 <= sel.eligible_traces <= 1700
    assert cells[0] > 10 * len(strata) and cells[1] <= 3  # what the four dimensions alone would give
    assert statistics.median(s.records for s in strata) >= 5, [(s.stratum, s.records) for s in strata]
    assert abs(sel.expected_records - Sampling().target_size) < 0.1 * Sampling().target_size
