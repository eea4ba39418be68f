"""Contract of a release gate run against loopback servers (the OpenAI-compatible judge, a JSON HTTP
candidate): a candidate that answers like production passes; one that answers nothing fails naming the
judge and the drop; a candidate whose endpoint is down, or judges that cannot judge, make an error with
nothing recorded as a pass; a second identical gate run makes no judge call; curated must-pass records
fail the gate when the candidate does not pass them; every candidate response is stored, failures
included; the gate's page shows the verdict first and regressions with both responses; problems that
must be fixed before a gate can run are sentences."""

import functools
import json
from pathlib import Path

import pytest

from eval_pipeline.lib import warehouse
from eval_pipeline.lib.config import Config, DevEval, Gate, Judging
from eval_pipeline.lib.gate import CandidateSpec, GateOptions, GateSetupError, gate, summary_lines
from eval_pipeline.lib.judging import Endpoint
from eval_pipeline_tests.support.gate import (
    JUDGE_MODEL,
    candidate_server,
    gate_judge,
    production_answer,
    store_dev_eval,
)
from eval_pipeline_tests.support.openai_server import Reply, serve, server_error

FN = "eval_pipeline_tests.support.gate"
KEY = b"test-masking-key"
JUDGES = ("no_error", "non_empty_response", "relevance")


def _config(**gate_options) -> Config:
    curated = gate_options.pop("curated", ())
    return Config(judging=Judging(judges=JUDGES, timeout_s=5, num_retries=0, backoff_s=0.01),
                  gate=Gate(min_records=10, **gate_options), dev_eval=DevEval(curated=curated))


def _gate(tmp_path: Path, spec: CandidateSpec, server, config: Config | None = None, **options):
    db = tmp_path / "wh.duckdb"
    endpoint = Endpoint(JUDGE_MODEL, server.base_url, "sk-test") if server else Endpoint()
    return gate(config or _config(), endpoint, spec, connect=functools.partial(warehouse.connect, db), key=KEY,
                reports_dir=tmp_path / "reports", options=GateOptions(**options))


def _rows(tmp_path: Path, sql: str) -> list[tuple]:
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        return con.execute(sql).fetchall()


def test_gate_passes_a_candidate_that_answers_like_production_and_regating_it_makes_no_judge_call(tmp_path):
    # About 100 records let an identical candidate pass a 2-point margin (the interval of a zero difference
    # is about +-2 / n wide); 60 need a margin of 5 points.
    store_dev_eval(tmp_path / "wh.duckdb", 60)
    with serve(gate_judge) as server:
        first = _gate(tmp_path, CandidateSpec(fn=f"{FN}:answer_like_production"), server, margin=0.05)
        calls_after_first = server.request_count
        second = _gate(tmp_path, CandidateSpec(fn=f"{FN}:answer_like_production"), server, margin=0.05)
        calls_after_second = server.request_count
    assert (first.verdict, second.verdict) == ("pass", "pass")
    assert [(c.judge, c.verdict, c.difference.value, c.difference.n) for c in first.comparisons] == [
        (j, "pass", 0.0, 60) for j in JUDGES]
    # The same answers as production: relevance is asked once per record, the pairwise judge not at all.
    assert calls_after_first == 60 and calls_after_second == calls_after_first  # the judgement cache
    assert sum(r.cache_hits for r in second.judge_runs) == 120 and sum(r.calls for r in second.judge_runs) == 0
    assert first.pairwise.rates["tie"].value == 1.0
    assert summary_lines(second)[-1] == ("GATE PASSED: no gating judge (no_error, non_empty_response, relevance) "
                                         "lost more than 5.0 points at 95 % confidence, on 60 records.")
    stored = _rows(tmp_path, "SELECT gate_id, judge, section, metric, verdict, gate_verdict, n FROM release_gates "
                             "WHERE section = 'production' ORDER BY gated_at, gate_id, judge")
    assert [r[1:] for r in stored] == [(j, "production", "pass_rate_difference", "pass", "pass", 60)
                                       for j in sorted(JUDGES)] * 2
    assert len({r[0] for r in stored}) == 2  # every run is kept
    assert _rows(tmp_path, "SELECT count(*), count(DISTINCT gate_id), count(*) FILTER (WHERE status = 'ok') "
                           "FROM candidate_responses") == [(120, 2, 120)]


def test_the_same_candidate_is_inconclusive_on_too_few_records_for_the_margin(tmp_path):
    store_dev_eval(tmp_path / "wh.duckdb", 40)
    run = _gate(tmp_path, CandidateSpec(fn=f"{FN}:answer_like_production"), None,
                judges=("no_error", "non_empty_response"))
    assert run.verdict == "fail" and {c.verdict for c in run.comparisons} == {"inconclusive"}
    assert "inconclusive" in summary_lines(run)[-1] and "records would decide it" in summary_lines(run)[-1]


def test_gate_fails_a_candidate_that_answers_empty_naming_the_judge_and_the_drop(tmp_path):
    store_dev_eval(tmp_path / "wh.duckdb", 60)
    with serve(gate_judge) as server:
        run = _gate(tmp_path, CandidateSpec(fn=f"{FN}:empty_answer"), server)
    assert run.verdict == "fail"
    # no_error is unchanged, but 60 records cannot show it within 2 points: inconclusive, listed after the drops.
    assert {c.judge: c.verdict for c in run.comparisons} == {"no_error": "inconclusive",
                                                             "non_empty_response": "fail", "relevance": "fail"}
    last = summary_lines(run)[-1]
    assert last.startswith("GATE FAILED: non_empty_response dropped 100.0 points (95 % interval -100.0 to ")
    assert last.endswith("60 records), beyond the margin of 2.0 (and 2 more above).")
    assert run.pairwise.rates["loss"].value == 1.0
    page = Path(run.report).read_text()
    assert page.index("FAILED") < page.index("Gating judges") < page.index("Example regressions")
    assert production_answer("question 0?") in page  # the production response beside the candidate's
    assert _rows(tmp_path, "SELECT DISTINCT gate_verdict, report FROM release_gates") == [("fail", run.report)]
    assert run.report.startswith(str(tmp_path / "reports" / "gates"))


def test_gate_against_an_endpoint_that_is_down_is_an_error_with_nothing_recorded_as_a_pass(tmp_path):
    store_dev_eval(tmp_path / "wh.duckdb", 60)
    with candidate_server(lambda body: (200, {})) as down:
        url = down.url  # closed once the server stops
    with serve(gate_judge) as server:
        run = _gate(tmp_path, CandidateSpec(url=url), server)
        assert server.request_count == 0  # nothing to judge
    assert run.verdict == "error"
    assert run.reasons[0].startswith("The candidate answered none of the 60 requests (first error: ")
    assert summary_lines(run)[-1].startswith("GATE ERROR: The candidate answered none of the 60 requests")
    assert _rows(tmp_path, "SELECT DISTINCT verdict, gate_verdict, estimate FROM release_gates") == [
        ("error", "error", None)]
    # Every failed call is a recorded failure, never a skip.
    assert _rows(tmp_path, "SELECT count(*), count(*) FILTER (WHERE status = 'error' AND error_kind IS NOT NULL) "
                           "FROM candidate_responses") == [(60, 60)]


def test_partial_candidate_failures_are_recorded_and_count_as_fails(tmp_path):
    store_dev_eval(tmp_path / "wh.duckdb", 40)

    def policy(body):
        number = int(body["request"].split()[1].rstrip("?"))
        return (500, {"error": "boom"}) if number % 4 == 0 else (200, {"response": production_answer(body["request"])})

    with candidate_server(policy) as candidate, serve(gate_judge) as server:
        run = _gate(tmp_path, CandidateSpec(url=candidate.url), server)
    assert run.verdict == "fail" and len(run.calls.failed) == 10
    no_error = run.comparisons[0]
    assert (no_error.judge, no_error.difference.value) == ("no_error", pytest.approx(-0.25))
    assert _rows(tmp_path, "SELECT error_kind, count(*) FROM candidate_responses WHERE status = 'error' "
                           "GROUP BY ALL") == [("retries_exhausted", 10)]


def test_judges_that_cannot_judge_make_an_error_not_a_verdict(tmp_path):
    store_dev_eval(tmp_path / "wh.duckdb", 30)
    with serve(lambda request: server_error()) as server:
        run = _gate(tmp_path, CandidateSpec(fn=f"{FN}:answer_like_production"), server)
    assert run.verdict == "error" and run.reasons[0].startswith("Every judge call failed")
    assert _rows(tmp_path, "SELECT count(*) FILTER (WHERE verdict = 'pass' OR gate_verdict = 'pass') "
                           "FROM release_gates") == [(0,)]


def test_curated_must_pass_records_gate_the_release_and_are_masked_for_the_candidate(tmp_path):
    store_dev_eval(tmp_path / "wh.duckdb", 60)
    suite = tmp_path / "smoke.jsonl"
    suite.write_text("\n".join(json.dumps(r) for r in [
        {"id": "easy", "request": "Where is my parcel?", "must_pass": True},
        {"id": "tricky", "request": "A tricky one for jane.doe@example.com", "must_pass": True, "tags": ["edge"]},
        {"id": "nice", "request": "Another tricky question", "must_pass": False},
        "not json",  # defect: a line that is not a record
    ]) + "\n")
    with serve(gate_judge) as server:
        run = _gate(tmp_path, CandidateSpec(fn=f"{FN}:unsure_on_tricky"), server,
                    _config(curated=(str(suite),)), judges=("relevance",), margin=0.05)
        bodies = [r.user_text for r in server.requests]
    assert run.verdict == "fail" and [c.verdict for c in run.comparisons] == ["pass"]
    assert run.reasons == ["the must-pass curated record curated:smoke:tricky did not pass relevance "
                           "(unknown: judge_abstained)"]
    assert [(c.passed, c.failed, c.unknown) for c in run.curated] == [(1, 0, 2)]
    assert not any("jane.doe@example.com" in b for b in bodies)
    stored = _rows(tmp_path, "SELECT request, response FROM candidate_responses WHERE record_id = "
                             "'curated:smoke:tricky'")
    assert stored[0][0].startswith("A tricky one for <EMAIL:") and stored[0][1] == "[[unsure]] it depends"
    assert _rows(tmp_path, "SELECT position, reason LIKE 'not a curated record%' FROM quarantine") == [(4, True)]


@pytest.mark.parametrize(("setup", "message"), [
    ({"rows": 0}, "No dev-eval dataset has been built"),
    ({"rows": 5}, "has 5 records, fewer than the 10 a gate needs"),
    ({"judges": ("relevancy",)}, "Unknown gating judge(s) ['relevancy']"),
    ({"no_model": True}, "are LLM judges but no judge model is configured"),
    ({"margin": -0.1}, "The margin is a tolerated drop in pass rate between 0 and 1"),
    ({"dataset_version": "nope"}, "No dev-eval dataset has version 'nope'"),
    ({"stale": True}, "was built before its records carried their tool calls"),
])
def test_gate_setup_problems_are_sentences_and_store_nothing(tmp_path, setup, message):
    if setup.get("rows", 20):
        store_dev_eval(tmp_path / "wh.duckdb", setup.get("rows", 20))
    if setup.get("stale"):  # a dataset built before the records carried tool calls (the migration leaves NULL)
        with warehouse.connect(tmp_path / "wh.duckdb") as con:
            con.execute("UPDATE dev_eval_dataset SET tool_calls = NULL")
    options = {k: setup[k] for k in ("judges", "margin", "dataset_version") if k in setup}
    with serve(gate_judge) as server, pytest.raises(GateSetupError) as error:
        _gate(tmp_path, CandidateSpec(fn=f"{FN}:answer_like_production"), None if setup.get("no_model") else server,
              **options)
    assert message in str(error.value)
    assert _rows(tmp_path, "SELECT count(*) FROM release_gates") == [(0,)]


def test_gate_abstentions_of_the_candidate_count_against_it(tmp_path):
    requests = [f"question {i}?" if i % 10 else f"tricky question {i}?" for i in range(60)]
    store_dev_eval(tmp_path / "wh.duckdb", 60, requests=requests)
    with serve(gate_judge) as server:
        run = _gate(tmp_path, CandidateSpec(fn=f"{FN}:unsure_on_tricky"), server, judges=("relevance",))
    (relevance,) = run.comparisons
    assert (relevance.candidate_unknown, relevance.difference.value, relevance.verdict) == (
        6, pytest.approx(-0.1), "fail")


def test_gate_passes_a_chat_model_candidate_served_like_production(tmp_path):
    store_dev_eval(tmp_path / "wh.duckdb", 60)
    # The candidate model answers the user message as the production agent did.
    with serve(gate_judge) as judge, \
            serve(lambda request: Reply(content=production_answer(request.user_text))) as model:
        run = _gate(tmp_path, CandidateSpec(model="openai/rc1", api_base=model.base_url), judge, margin=0.05)
        asked = model.request_count
    assert (run.verdict, run.candidate.kind, asked) == ("pass", "litellm", 60)
    assert _rows(tmp_path, "SELECT DISTINCT candidate, candidate_kind, candidate_target FROM release_gates") == [
        ("openai-rc1", "litellm", "openai/rc1")]
