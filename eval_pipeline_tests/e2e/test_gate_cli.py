"""Contract of `eval-pipeline gate` for CI pipelines, run as a command against loopback servers: exit 0 when
a candidate answering like production passes, 1 when one answering empty fails (the last line names the
judge and the drop), 2 when the candidate's endpoint is down (nothing recorded as a pass) or the command is
misused; a second identical gate makes no judge call. On the demo chain (generated traffic -> daily_eval ->
dev_eval_dataset -> export), the README's worked example: a candidate replaying the exported answers is
inconclusive at the default margin on so few records and passes a 5-point one, and one that drops a fifth
of them fails."""

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
from eval_pipeline_tests.support.gate import (
    JUDGE_MODEL,
    candidate_server,
    gate_judge,
    production_answer,
    store_dev_eval,
)
from eval_pipeline_tests.support.openai_server import serve

pytestmark = pytest.mark.slow

REPLAY = '''\
"""A candidate for the worked example: answers with the exported production answer (optionally dropping some)."""
import json, os, pathlib

_ANSWERS = {}
for line in pathlib.Path(os.environ["REPLAY_FROM"]).read_text().splitlines():
    record = json.loads(line)
    _ANSWERS[record["trace_id"]] = record["outputs"]["response"]


def replay(request, context):
    return _ANSWERS[context["record_id"]]


def degraded(request, context):
    answer = replay(request, context)
    return "" if int(context["record_id"][-2:], 16) % 5 == 0 else answer
'''


def _gate(env: dict[str, str], *args: str, cwd: Path | None = None) -> tuple[int, list[str]]:
    done = subprocess.run([sys.executable, "-m", "eval_pipeline.cli", "gate", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    return done.returncode, (done.stdout + done.stderr).strip().splitlines()


def _env(paths: dict[str, Path], **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "EVAL_WAREHOUSE": str(paths["warehouse"]),
           "EVAL_REPORTS_DIR": str(paths["reports"]), "EVAL_MASKING_KEY": "test-masking-key", **extra}
    for name in ("EVAL_JUDGE_MODEL", "EVAL_JUDGE_API_BASE", "EVAL_CONFIG"):
        if name not in extra:
            env.pop(name, None)
    return env


def test_gate_cli_exit_codes_against_loopback_servers(pipeline_env: dict[str, Path], tmp_path: Path):
    store_dev_eval(pipeline_env["warehouse"], 120)
    config = tmp_path / "eval.yaml"
    config.write_text("judging:\n  judges: [no_error, non_empty_response, relevance]\n  timeout_s: 5\n"
                      "  num_retries: 0\ngate:\n  min_records: 10\n")
    with serve(gate_judge) as judge, \
            candidate_server(lambda body: (200, {"response": production_answer(body["request"])})) as candidate:
        env = _env(pipeline_env, EVAL_CONFIG=str(config), EVAL_JUDGE_MODEL=JUDGE_MODEL,
                   EVAL_JUDGE_API_BASE=judge.base_url, EVAL_JUDGE_API_KEY="sk-test")
        code, lines = _gate(env, "--candidate-url", candidate.url)
        assert code == 0, lines
        assert lines[-1].startswith("GATE PASSED: no gating judge (no_error, non_empty_response, relevance)")
        assert any(line.split()[:1] == ["relevance"] and line.split()[-1] == "pass" for line in lines)
        judged = judge.request_count
        code, lines = _gate(env, "--candidate-url", candidate.url)
        assert (code, judge.request_count) == (0, judged)  # re-gating an unchanged candidate is free
        code, lines = _gate(env, "--candidate-fn", "eval_pipeline_tests.support.gate:empty_answer")
        assert code == 1, lines
        assert lines[-1].startswith("GATE FAILED: non_empty_response dropped 100.0 points (95 % interval -100.0 to")
        with candidate_server(lambda body: (200, {})) as down:
            url = down.url  # closed once the server stops
        code, lines = _gate(env, "--candidate-url", url, "--candidate-name", "down")
        assert code == 2, lines
        assert lines[-1].startswith("GATE ERROR: The candidate answered none of the 120 requests")
    with duckdb.connect(str(pipeline_env["warehouse"]), read_only=True) as con:
        assert con.execute("SELECT DISTINCT verdict, gate_verdict FROM release_gates WHERE candidate = 'down'"
                           ).fetchall() == [("error", "error")]
    code, lines = _gate(env)
    assert code == 2 and "one of the arguments --candidate-model --candidate-fn --candidate-url is required" in \
        lines[-1]
    code, lines = _gate(env, "--candidate-fn", "x:y", "--judges", "relevancy")
    assert (code, lines[-1]) == (2, lines[-1]) and lines[-1].startswith("GATE ERROR: Unknown gating judge(s)")


def test_gate_cli_worked_example_on_the_demo_chain(pipeline_env: dict[str, Path], tmp_path: Path):
    start = dt.date(2026, 11, 20)
    end = start + dt.timedelta(days=1)
    synthetic.generate(pipeline_env["landing"], start, 2, sessions_per_day=40, seed=7)
    config = tmp_path / "eval.yaml"
    config.write_text("dev_eval:\n  window_days: 2\ngate:\n  judges: [no_error, non_empty_response, no_refusal]\n")
    os.environ["EVAL_CONFIG"] = str(config)
    try:
        job = defs().resolve_job_def("daily_eval")
        with dg.instance_for_test() as instance:
            for day in (start, end):
                assert job.execute_in_process(partition_key=day.isoformat(), instance=instance).success
            dev_eval = defs().resolve_implicit_global_asset_job_def()
            assert dev_eval.execute_in_process(partition_key=end.isoformat(), instance=instance,
                                               asset_selection=[dg.AssetKey("dev_eval_dataset")]).success
    finally:
        del os.environ["EVAL_CONFIG"]
    env = _env(pipeline_env, EVAL_CONFIG=str(config))
    export = subprocess.run([sys.executable, "-m", "eval_pipeline.cli", "export", "--format", "jsonl", "--out",
                             str(tmp_path / "export")], env=env, capture_output=True, text=True, timeout=120)
    assert export.returncode == 0, export.stderr
    (records,) = (tmp_path / "export").glob("dev_eval_*/records.jsonl")
    (tmp_path / "my_candidate.py").write_text(REPLAY)
    env["REPLAY_FROM"] = str(records)
    # About 115 records of unequal weights: too few to show a 2-point margin even for identical answers
    # (inconclusive, exit 1, with the records that would decide it); a 5-point margin they can show.
    code, lines = _gate(env, "--candidate-fn", "my_candidate:replay", cwd=tmp_path)
    assert code == 1 and "inconclusive" in lines[-1] and "records would decide it" in lines[-1], lines
    code, lines = _gate(env, "--candidate-fn", "my_candidate:replay", "--margin", "0.05", cwd=tmp_path)
    assert code == 0, lines
    head = "GATE PASSED: no gating judge (no_error, non_empty_response, no_refusal) lost more than 5.0 points at " \
        "95 % confidence, on "
    assert lines[-1].startswith(head), lines
    # The fewest records any judge compared on: no_refusal leaves out the traces without a response.
    assert 0 < int(lines[-1][len(head):].split()[0]) <= sum(1 for _ in records.open())
    code, lines = _gate(env, "--candidate-fn", "my_candidate:degraded", "--margin", "0.05", cwd=tmp_path)
    assert code == 1, lines
    # Empty answers fail non_empty_response and no_refusal alike; the last line names the larger drop.
    assert re.match(r"GATE FAILED: (non_empty_response|no_refusal) dropped \d+\.\d points \(95 % interval ",
                    lines[-1]), lines
    assert json.loads(records.read_text().splitlines()[0])["weight"] > 0
