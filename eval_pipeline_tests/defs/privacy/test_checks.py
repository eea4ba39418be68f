"""Contract: when personal data survives masking, the blocking checks on masked_traces (no_pii_left and the
pseudonym rules of the Great Expectations suite) fail and nothing downstream runs for the day; their metadata
shows counts and shapes only."""

from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from eval_pipeline.lib.masking import PII_FOUND, engine
from eval_pipeline_tests.support.privacy_planted import NEEDLES, PLANTED, event_log, leaks, run_day


def _no_masking(df: pl.DataFrame, key: bytes, names: object = None, urls: str = "all") -> tuple[pl.DataFrame, Counter]:
    # a masker that lets everything through: the regression the blocking check exists for
    return df.with_columns(pl.lit([], dtype=PII_FOUND).alias("pii_found")), Counter()


@pytest.mark.slow
def test_privacy_blocking_checks_stop_the_day_when_pii_survives(planted: dict[str, Path],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "mask_frame", _no_masking)
    with dg.instance_for_test() as instance:
        result = run_day(instance)
        events = event_log(instance, result.run_id)
    assert not result.success
    checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert checks["no_pii_left"].passed is False
    assert checks["user_id_pseudonymised"].passed is False
    meta = {k: v.value for k, v in checks["no_pii_left"].metadata.items()}
    assert set(PLANTED) - {"DOB", "ADDRESS"} <= set(meta["entities_left_by_type"])
    assert meta["masked_samples"] and all("shape" in s for s in meta["masked_samples"])
    materialized = {e.asset_key.to_user_string() for e in result.all_events
                    if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert "masked_traces" in materialized
    assert not materialized & {"eval_dataset", "judge_scores", "daily_metrics", "daily_judge_results"}
    with duckdb.connect(str(planted["warehouse"]), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM eval_dataset").fetchall() == [(0,)]
    # The failing checks describe what survived without repeating it.
    assert leaks(events, NEEDLES) == []
