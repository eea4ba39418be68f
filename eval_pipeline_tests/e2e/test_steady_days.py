"""Contract: ten steady days of the demo's sample traffic (eval_pipeline.synthetic.generate at the demo's size,
about a hundred traces a day, the same mix every day) run through `daily_eval` raise no ERROR check: the
stratum mix, traffic and regression checks that used to fail on such days (PSI over sparse strata) stay
quiet, and so does every other check at its default threshold."""

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from eval_pipeline import synthetic
from eval_pipeline.definitions import defs

pytestmark = pytest.mark.slow

START = dt.date(2026, 11, 1)
DAYS = 10


def test_ten_steady_days_raise_no_error_check(pipeline_env: dict[str, Path]) -> None:
    synthetic.generate(pipeline_env["landing"], START, DAYS, sessions_per_day=30, seed=11)
    job = defs().resolve_job_def("daily_eval")
    failed, evaluated = {}, 0
    with dg.instance_for_test() as instance:
        for k in range(DAYS):
            day = START + dt.timedelta(days=k)
            result = job.execute_in_process(partition_key=day.isoformat(), instance=instance)
            assert result.success
            checks = [e.asset_check_evaluation_data for e in result.all_events
                      if e.event_type_value == "ASSET_CHECK_EVALUATION"]
            evaluated += len(checks)
            errors = [c.check_name for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
            if errors:
                failed[day] = errors
    assert evaluated > 10 * DAYS
    assert failed == {}
