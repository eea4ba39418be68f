"""Contract: `daily_eval` materializes the whole chain for a partition and for a range of days from
generated OTLP traffic; a day replaces exactly its rows and a re-run changes nothing; the checks run;
only masked text reaches the tables after masking; the LLM judge goes through litellm to a real
OpenAI-compatible server; the documented `dagster job execute` command works from the repo root."""

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from eval_pipeline import synthetic
from eval_pipeline.definitions import defs
from eval_pipeline.lib.warehouse import PROJECT_ROOT
from eval_pipeline_tests.support.openai_server import ChatRequest, Reply, serve

# Whole-chain runs and servers: the slow tier.
pytestmark = pytest.mark.slow

START = dt.date(2026, 11, 20)
DAYS = [START, START + dt.timedelta(days=1)]
DOWNSTREAM = ("masked_traces", "eval_dataset", "judge_scores", "daily_metrics", "daily_judge_results")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def _run(day: dt.date, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    job = defs().resolve_job_def("daily_eval")
    return job.execute_in_process(partition_key=day.isoformat(), instance=instance, raise_on_error=False)


def _snapshot(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        out = {}
        for t in ("raw_traces", "spans", "masked_traces", "eval_dataset"):
            out[t] = con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()  # noqa: S608 - fixed names
        out["judge_scores"] = con.execute(
            "SELECT * EXCLUDE (scored_at) FROM judge_scores ORDER BY ALL").fetchall()
        return out


@pytest.fixture
def traffic(pipeline_env: dict[str, Path]) -> dict[str, Path]:
    synthetic.generate(pipeline_env["landing"], START, len(DAYS), sessions_per_day=12, seed=3)
    return pipeline_env


def test_daily_eval_materializes_a_partition(traffic: dict[str, Path]) -> None:
    with dg.instance_for_test() as instance:
        result = _run(START, instance)
        assert result.success
        checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
                  for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert {"trace_id_present", "trace_id_unique", "trace_date_is_partition", "latency_non_negative",
            "status_in_set", "quarantine_share_below_threshold", "judge_pass_rate_no_regression",
            "traffic_no_drift", "judges_answer_and_cost_stable"} <= set(checks)
    # every check passes on the sample day (the drift checks have no earlier days and say so)
    assert [name for name, passed in checks.items() if not passed] == []
    with duckdb.connect(str(traffic["warehouse"]), read_only=True) as con:
        for table in ("raw_traces", "spans", *DOWNSTREAM):
            dates = con.execute(f"SELECT DISTINCT trace_date FROM {table}").fetchall()  # noqa: S608
            assert dates == [(START,)], table
        traces, masked = con.execute(
            "SELECT (SELECT count(*) FROM raw_traces), (SELECT count(*) FROM masked_traces)").fetchall()[0]
        assert traces == masked > 20
        judges = dict(con.execute("SELECT judge, count(*) FROM judge_scores GROUP BY judge").fetchall())
        records = con.execute("SELECT count(*) FROM eval_dataset").fetchall()[0][0]
        assert judges == {"no_error": records, "non_empty_response": records, "relevance": records}
        reasons = con.execute("SELECT DISTINCT verdict, unknown_reason, rationale FROM judge_scores "
                              "WHERE judge = 'relevance'").fetchall()
        assert reasons == [("unknown", "no_model_configured", "no judge model configured")]
        assert con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0] > 0


def test_daily_eval_range_equals_days_run_one_by_one_and_rerun_changes_nothing(
        traffic: dict[str, Path], tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        for day in DAYS:
            assert _run(day, instance).success
        first = _snapshot(traffic["warehouse"])
        for day in reversed(DAYS):  # again, in the other order
            assert _run(day, instance).success
    assert _snapshot(traffic["warehouse"]) == first
    assert {r[1] for r in first["raw_traces"]} == set(DAYS)


def test_daily_eval_masks_personal_data_before_any_later_table(traffic: dict[str, Path]) -> None:
    with dg.instance_for_test() as instance:
        assert _run(START, instance).success
    with duckdb.connect(str(traffic["warehouse"]), read_only=True) as con:
        raw_emails = con.execute("SELECT count(*) FROM raw_traces WHERE regexp_matches(request, '@[a-z]')").fetchall()
        assert raw_emails[0][0] > 0  # the sample traffic does carry personal data
        for table in DOWNSTREAM:
            text = json.dumps(con.execute(f"SELECT * FROM {table}").fetchall(), default=str)  # noqa: S608
            assert not EMAIL.findall(text), table


def test_daily_eval_llm_judge_through_litellm_to_a_local_server(traffic: dict[str, Path],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def policy(request: ChatRequest) -> Reply:
        verdict = "fail" if "refund" in request.user_text.lower() else "pass"
        return Reply(content=json.dumps({"verdict": verdict, "rationale": f"scripted {verdict}"}))

    with serve(policy) as server:
        monkeypatch.setenv("EVAL_JUDGE_MODEL", "openai/test-judge")
        monkeypatch.setenv("EVAL_JUDGE_API_BASE", server.base_url)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # a local server needs no key
        with dg.instance_for_test() as instance:
            assert _run(START, instance).success
        calls = server.request_count
    with duckdb.connect(str(traffic["warehouse"]), read_only=True) as con:
        rows = con.execute("SELECT verdict, unknown_reason, model, prompt_version, input_hash, cached "
                           "FROM judge_scores WHERE judge = 'relevance'").fetchall()
    graded = [r for r in rows if r[0] in ("pass", "fail")]
    # one call per distinct judge input: the eval dataset holds one record per drawn trace, and a repeated
    # question with the same answer is judged once, its other records reusing that verdict
    assert calls == len({r[4] for r in graded}) == sum(not r[5] for r in graded) > 0
    assert {r[0] for r in graded} == {"pass", "fail"}
    # a record without a response is not sent: unknown with its reason, never a pass
    assert {(r[0], r[1]) for r in rows if r[0] == "unknown"} <= {("unknown", "missing_input")}
    assert {r[2] for r in rows} == {"openai/test-judge"} and all(r[3] for r in rows)
    for req in server.requests:  # only masked text was sent to the judge
        assert not EMAIL.findall(json.dumps(req.body))


def test_dagster_job_execute_command_from_repo_root(traffic: dict[str, Path]) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(traffic["reports"].parent / "dagster_home")}
    Path(env["DAGSTER_HOME"]).mkdir()
    cmd = [str(Path(sys.executable).parent / "dagster"), "job", "execute", "-m", "eval_pipeline.definitions",
           "-j", "daily_eval", "--tags", json.dumps({"dagster/partition": START.isoformat()})]
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "RUN_SUCCESS" in proc.stderr + proc.stdout
    with duckdb.connect(str(traffic["warehouse"]), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM daily_metrics WHERE trace_date = $d", {"d": START}).fetchall()[0][0] == 1
