"""Contract of one LLM judge call: it goes through litellm's real code path to a local OpenAI-compatible
server and turns every answer or failure into a verdict (pass/fail from valid JSON, otherwise unknown with
a machine-readable reason, never pass), within the concurrency limit, retrying rate limits (honouring
Retry-After) and server errors, timing out hung calls, without one bad record failing the batch and
without trace text in logs or rationales."""

import asyncio
import json
import logging
import time

from eval_pipeline.lib.judging import Endpoint, JudgeSettings, run_llm_judge
from eval_pipeline.lib.judging.prompts import RELEVANCE_PROMPT_VERSION
from eval_pipeline_tests.support.judging import MODEL, by_marker, make_record, run_judge
from eval_pipeline_tests.support.openai_server import serve


def test_run_llm_judge_without_model_is_unknown_and_sends_nothing():
    with serve(by_marker) as server:
        # The second record has no response: without a model that is not what makes it unknown.
        records = [make_record("a"), make_record("b", response=None)]
        verdicts = asyncio.run(run_llm_judge(records, JudgeSettings(endpoint=Endpoint(api_base=server.base_url))))
        assert server.request_count == 0
    assert [(v.verdict, v.unknown_reason, v.rationale) for v in verdicts] == [
        ("unknown", "no_model_configured", "no judge model configured")
    ] * 2
    assert [v.trace_id for v in verdicts] == ["a", "b"]
    assert all(v.prompt_version == RELEVANCE_PROMPT_VERSION and v.model is None for v in verdicts)


def test_run_llm_judge_parses_pass_and_fail():
    records = [make_record("a"), make_record("b", "[[fail]] What is the capital of Spain?")]
    with serve(by_marker) as server:
        verdicts = run_judge(records, server)
        body = server.requests[0].body

    assert [(v.trace_id, v.verdict, v.unknown_reason) for v in verdicts] == [("a", "pass", None), ("b", "fail", None)]
    assert verdicts[1].rationale == "The response is about something else."
    first = verdicts[0]
    assert (first.judge, first.model, first.prompt_version) == ("relevance", MODEL, "relevance-v2")
    assert (first.input_tokens, first.output_tokens) == (42, 7)
    # test-judge is not in litellm's cost map and no price was configured.
    assert first.cost_usd is None
    assert first.latency_ms is not None and first.latency_ms > 0
    assert json.loads(first.parameters) == {"max_tokens": 512, "response_format": "JudgeAnswer-v2", "temperature": 0}
    assert body["model"] == "test-judge"
    assert (body["temperature"], body["max_tokens"]) == (0, 512)
    assert body["response_format"]["type"] == "json_schema"
    verdicts = body["response_format"]["json_schema"]["schema"]["properties"]["verdict"]["enum"]
    assert verdicts == ["pass", "fail", "unknown"]


def test_run_llm_judge_marks_malformed_answers_unparseable():
    records = [
        make_record("a", "[[malformed]] Hi"),  # defect: prose instead of JSON
        make_record("b", "[[bad-verdict]] Hi"),  # defect: JSON with a verdict outside pass/fail
        make_record("c", "[[refuse]] Hi"),  # defect: the judge refuses
    ]
    with serve(by_marker) as server:
        verdicts = run_judge(records, server)

    assert [(v.verdict, v.unknown_reason) for v in verdicts] == [
        ("unknown", "unparseable"),
        ("unknown", "unparseable"),
        ("unknown", "refused"),
    ]
    # The call was made and paid for, so its tokens are still recorded.
    assert verdicts[0].input_tokens == 42


def test_run_llm_judge_times_out_a_hanging_call_without_failing_the_batch():
    records = [make_record("a", "[[hang]] Hi"), make_record("b")]
    with serve(by_marker) as server:
        started = time.monotonic()
        verdicts = run_judge(records, server, timeout_s=0.3, num_retries=2)
        elapsed = time.monotonic() - started
        attempts = server.request_count

    assert (verdicts[0].verdict, verdicts[0].unknown_reason) == ("unknown", "timeout")
    assert verdicts[0].rationale.startswith("Timeout")
    assert verdicts[1].verdict == "pass"
    assert attempts == 2  # a timed-out call is not retried
    assert elapsed < 5


def test_run_llm_judge_retries_server_errors_then_gives_up():
    request = "[[500]] Please summarise my medical record for patient Jane Roe"
    with serve(by_marker) as server:
        (verdict,) = run_judge([make_record("a", request)], server, num_retries=2)
        attempts = server.request_count

    assert attempts == 3  # the first call and two retries
    assert (verdict.verdict, verdict.unknown_reason) == ("unknown", "retries_exhausted")
    assert verdict.rationale.startswith("InternalServerError: ")
    assert "Jane Roe" not in verdict.rationale


def test_run_llm_judge_does_not_retry_a_bad_request():
    with serve(by_marker) as server:
        (verdict,) = run_judge([make_record("a", "[[400]] Hi")], server, num_retries=2)
        attempts = server.request_count
    assert attempts == 1
    assert (verdict.verdict, verdict.unknown_reason) == ("unknown", "call_failed")
    assert verdict.rationale.startswith("BadRequestError")


def test_run_llm_judge_retries_after_rate_limit():
    with serve(by_marker) as server:
        (verdict,) = run_judge([make_record("a", "[[429-once]] Hi")], server, num_retries=2)
        attempts = [r.attempt for r in server.requests]

    assert verdict.verdict == "pass"
    assert attempts == [1, 2]


def test_run_llm_judge_honours_retry_after():
    with serve(by_marker) as server:
        started = time.monotonic()
        (verdict,) = run_judge([make_record("a", "[[429-wait]] Hi")], server, num_retries=1, backoff_s=0.01)
        elapsed = time.monotonic() - started
        attempts = [r.attempt for r in server.requests]
    assert verdict.verdict == "pass" and attempts == [1, 2]
    # The server asked for one second; the client's own backoff (10 ms) would have been shorter.
    assert 1.0 <= elapsed < 4


def test_run_llm_judge_respects_concurrency_limit():
    records = [make_record(f"t{i}", f"[[slow]] question {i}") for i in range(12)]
    with serve(by_marker) as server:
        verdicts = run_judge(records, server, concurrency=3)
        max_in_flight = server.max_in_flight

    assert [v.verdict for v in verdicts] == ["pass"] * 12
    assert [v.trace_id for v in verdicts] == [f"t{i}" for i in range(12)]
    # Equal, not just at most: the calls did overlap, up to the limit.
    assert max_in_flight == 3


def test_run_llm_judge_keeps_trace_text_out_of_logs(caplog, capfd):
    caplog.set_level(logging.DEBUG)
    secret = "[[500]] my account number is 4417-1234"
    with serve(by_marker) as server:
        run_judge([make_record("a", secret), make_record("b", "[[fail]] my account number is 4417-1234")], server)

    captured = capfd.readouterr()
    for text in (caplog.text, captured.out, captured.err):
        assert "4417-1234" not in text
