"""Contract: materializing `raw_traces` for a day shows that day's figures as metadata (traces, error traces,
files read by format, quarantine, conventions seen as a table; spans kept and duplicates dropped), its checks
pass on clean data, and `quarantine_share_below_threshold` fails when the day's quarantine share is over the
configured threshold."""

import os
from pathlib import Path

import dagster as dg
import pytest

from eval_pipeline.defs.traces import assets, checks
from eval_pipeline.resources import LandingZone, Settings, Warehouse
from eval_pipeline_tests.support import otlp_builders as b
from eval_pipeline_tests.support.landing import DAY, T, agent_trace, write

CHECKS = [checks.raw_traces_expectations, checks.quarantine_share_below_threshold]


def _materialize() -> dg.ExecuteInProcessResult:
    return dg.materialize([assets.raw_traces, *CHECKS], partition_key=DAY.isoformat(), raise_on_error=True,
                          resources={"warehouse": Warehouse(), "landing": LandingZone(), "settings": Settings()})


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()}
            for m in result.asset_materializations_for_node("raw_traces")}


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def _landing(landing: Path) -> None:
    spans = agent_trace(b.new_trace_id(), T)
    write(landing / "a.json", spans)
    failed = agent_trace(b.new_trace_id(), T)
    failed[0]["status"] = {"code": 2, "message": "gave up"}  # the root failed: an error trace
    failed[1]["attributes"] = b.attrs({"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o"})
    (landing / "b.jsonl").write_bytes(b.dumps(b.request(failed[:2])) + b"\n" + b.dumps(b.request(failed[2:])))
    write(landing / "retry.json", spans[:1])  # defect: the exporter re-sent one span


def test_raw_traces_metadata_shows_the_days_figures_and_checks_pass(pipeline_env: dict[str, Path]) -> None:
    _landing(pipeline_env["landing"])
    result = _materialize()
    meta = _metadata(result)
    traces, spans = meta["raw_traces"], meta["spans"]
    assert (traces["dagster/row_count"], traces["traces"], traces["error_traces"]) == (2, 2, 1)
    assert (traces["files_read"], traces["files_by_format"]) == (3, {"otlp-json": 2, "otlp-jsonl": 1})
    assert (traces["quarantined"], traces["quarantined_this_run"], traces["quarantine_share"]) == (0, 0, 0.0)
    assert traces["quarantine_share_threshold"] == 0.05
    assert traces["conventions"] == "| convention | traces |\n|---|---|\n| openinference | 1 |\n| otel_genai | 2 |\n"
    assert traces["seconds"] >= 0
    assert (spans["dagster/row_count"], spans["spans"], spans["duplicate_spans_dropped"],
            spans["spans_read_this_run"]) == (8, 8, 1, 9)
    found = _checks(result)
    assert set(found) == {"trace_id_present", "trace_id_unique", "trace_date_is_partition", "latency_non_negative",
                          "status_in_set", "quarantine_share_below_threshold"}
    assert all(found.values()), found  # clean data: no check fires


@pytest.mark.parametrize(("threshold", "passed"), [(None, False), (0.2, True)])
def test_quarantine_share_below_threshold_fails_over_the_configured_share(
        pipeline_env: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        threshold: float | None, passed: bool) -> None:
    _landing(pipeline_env["landing"])
    bad = pipeline_env["landing"] / "bad.jsonl"
    bad.write_bytes(b"{oops\n")  # defect: one unreadable record for 9 spans read, dated by when it landed
    os.utime(bad, ns=(b.ns(T), b.ns(T)))
    if threshold is not None:
        config = tmp_path / "eval.yaml"
        config.write_text(f"quality:\n  max_quarantine_share: {threshold}\n")
        monkeypatch.setenv("EVAL_CONFIG", str(config))
    result = _materialize()
    assert _metadata(result)["raw_traces"]["quarantine_share"] == pytest.approx(0.1)
    assert _checks(result)["quarantine_share_below_threshold"] is passed
