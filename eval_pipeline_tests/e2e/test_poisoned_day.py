"""Contract: a poisoned landing zone never fails a run. `daily_eval` for a day whose landing zone holds the
poisoned files of issue 12 beside good traces succeeds: the good traces go through the whole chain, and each
bad thing is one quarantine row with its reason."""

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from eval_pipeline.definitions import defs
from eval_pipeline_tests.support import otlp_builders as b
from eval_pipeline_tests.support.landing import DAY, T, agent_trace, write
from eval_pipeline_tests.support.poison import POISON

pytestmark = pytest.mark.slow


def test_daily_eval_with_poisoned_files_beside_good_ones_succeeds(pipeline_env: dict[str, Path]) -> None:
    landing = pipeline_env["landing"]
    for i in range(40):
        write(landing / f"good-{i:02d}.json", agent_trace(b.new_trace_id(), T, question=f"Where is parcel {i}?"))
    for name, (data, _, _) in POISON.items():
        (landing / f"{name}.json").write_bytes(data)  # defect: a poisoned file
    with dg.instance_for_test() as instance:
        result = defs().resolve_job_def("daily_eval").execute_in_process(
            partition_key=DAY.isoformat(), instance=instance, raise_on_error=False)
    assert result.success
    kept = sum(k for _, k, _ in POISON.values())  # one-span traces the poisoned files hold beside the poison
    with duckdb.connect(str(pipeline_env["warehouse"]), read_only=True) as con:
        traces, masked, scored = con.execute(
            "SELECT (SELECT count(*) FROM raw_traces), (SELECT count(*) FROM masked_traces), "
            "(SELECT count(DISTINCT trace_id) FROM judge_scores)").fetchall()[0]
        quarantine = con.execute("SELECT source_file, reason FROM quarantine ORDER BY source_file").fetchall()
    assert traces == masked == 40 + kept and scored > 0
    assert {Path(f).stem: r for f, r in quarantine}.keys() == POISON.keys()
    assert len(quarantine) == len(POISON)  # one row per bad thing
    assert all(POISON[Path(f).stem][2] in r for f, r in quarantine)
