"""Contract of the candidates and their calls: a litellm model, a Python callable (sync or async) and an HTTP
JSON endpoint each answer the masked request with the record's context (never the production response);
calls stay within the concurrency limit, retry rate limits and server errors, give up at the timeout, and
every failure is a recorded response with its kind (never a skip); a candidate whose first calls all fail
is taken to be unreachable; answers are masked before anyone sees them; set-up mistakes are sentences."""

import json
import time
from pathlib import Path

import pytest

from eval_pipeline.lib.config import Judging, Privacy
from eval_pipeline.lib.gate.candidates import CandidateSpec, open_candidate
from eval_pipeline.lib.gate.errors import GateSetupError
from eval_pipeline.lib.gate.inputs import GateRecord
from eval_pipeline.lib.gate.responses import ABORT_AFTER, call_candidate
from eval_pipeline_tests.support.gate import candidate_server, production_answer
from eval_pipeline_tests.support.openai_server import Reply, rate_limited, serve

KEY = b"test-masking-key"
JUDGING = Judging(concurrency=4, timeout_s=2, num_retries=1, backoff_s=0.01)
# litellm's first call in a process sets up its client (seconds on a loaded 2-core machine): a 2 s timeout
# then fails a call the server answered, so the litellm test waits as long as a real deployment would.
PATIENT = Judging(concurrency=4, timeout_s=60, num_retries=1, backoff_s=0.01)
FN = "eval_pipeline_tests.support.gate"


def _records(n: int = 3) -> list[GateRecord]:
    return [GateRecord(f"t{i}", "production", f"where is parcel number {i}?", stratum="s", retrieved_context=("doc",),
                       production={"response": "THE PRODUCTION ANSWER", "status": "ok", "tool_path": ["search"]})
            for i in range(n)]


def _call(spec: CandidateSpec, records: list[GateRecord], judging: Judging = JUDGING):
    return call_candidate(open_candidate(spec, judging), records, judging, None, KEY, Privacy())


def test_callable_candidate_gets_the_request_and_context_never_the_production_response():
    calls = _call(CandidateSpec(fn=f"{FN}:echo_context"), _records(1))
    (r,) = calls.responses
    seen = json.loads(r.response)
    assert seen["request"] == "where is parcel number 0?"
    assert seen["context"] == {"record_id": "t0", "section": "production", "stratum": "s", "status": "ok",
                               "tool_path": ["search"], "retrieved_context": ["doc"], "tags": []}
    assert "THE PRODUCTION ANSWER" not in r.response
    assert (r.status, r.error, r.attempts) == ("ok", None, 1) and r.latency_ms is not None


def test_async_callable_reports_tool_calls_as_text():
    (r,) = _call(CandidateSpec(fn=f"{FN}:async_answer"), _records(1)).responses
    assert r.response == production_answer("where is parcel number 0?")
    assert r.tool_calls == [{"name": "search", "arguments": '{"q": "where is parcel number 0?"}', "result": "found",
                             "status": "ok"}]


def test_callable_failures_are_recorded_with_their_kind():
    crashed = _call(CandidateSpec(fn=f"{FN}:raises"), _records(2))
    assert [(r.status, r.error_kind, r.response) for r in crashed.responses] == [("error", "call_failed", None)] * 2
    # The error names the exception but never quotes the request (masked or not).
    assert crashed.responses[0].error == "RuntimeError: (message withheld: it quotes the record's content)"
    wrong = _call(CandidateSpec(fn=f"{FN}:returns_a_number"), _records(1)).responses[0]
    assert (wrong.error_kind, wrong.error) == ("bad_response", "the candidate returned int; return the response "
                                                               "text or an object with 'response' and optionally "
                                                               "'tool_calls'")


def test_hanging_callable_times_out_without_holding_the_gate():
    started = time.monotonic()
    (r,) = _call(CandidateSpec(fn=f"{FN}:hangs"), _records(1), Judging(timeout_s=0.3, num_retries=0)).responses
    assert (r.error_kind, r.error) == ("timeout", "no answer within 0.3 s")
    assert time.monotonic() - started < 5


def test_http_candidate_retries_rate_limits_and_answers_within_the_concurrency_limit():
    in_flight, peak, seen = [0], [0], set()

    def policy(body):
        if body["request"] not in seen:  # defect: every first attempt is rate limited
            seen.add(body["request"])
            return 429, {"error": "slow down"}
        in_flight[0] += 1
        peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.05)
        in_flight[0] -= 1
        return 200, {"response": production_answer(body["request"])}

    with candidate_server(policy) as server:
        calls = _call(CandidateSpec(url=server.url), _records(12))
    assert [r.response for r in calls.responses] == [production_answer(f"where is parcel number {i}?")
                                                      for i in range(12)]
    assert {r.attempts for r in calls.responses} == {2} and calls.calls == 24
    assert peak[0] <= JUDGING.concurrency


@pytest.mark.parametrize(("reply", "kind"), [
    ((500, {"error": "boom"}), "retries_exhausted"),  # defect: a server error on every attempt
    ((404, {"error": "no route"}), "call_failed"),  # defect: retrying cannot help
    ((200, b"<html>not json</html>"), "bad_response"),  # defect: not JSON
    ((200, {"answer": "x"}), "bad_response"),  # defect: no 'response' key
])
def test_http_candidate_failures_are_recorded(reply, kind):
    with candidate_server(lambda body: reply) as server:
        (r,) = _call(CandidateSpec(url=server.url), _records(1)).responses
    assert (r.status, r.error_kind, r.response) == ("error", kind, None)


def test_unreachable_candidate_stops_after_its_first_failures_and_records_the_rest():
    with candidate_server(lambda body: (200, {})) as server:
        url = server.url  # the port is closed once the server stops
    calls = _call(CandidateSpec(url=url), _records(30), Judging(concurrency=2, timeout_s=2, num_retries=0))
    kinds = [r.error_kind for r in calls.responses]
    assert len(calls.responses) == 30 and None not in kinds
    assert kinds.count("call_failed") + kinds.count("retries_exhausted") >= ABORT_AFTER
    assert kinds.count("not_called") >= 30 - ABORT_AFTER - 2
    assert calls.calls < 10


def test_litellm_candidate_sends_its_system_prompt_and_the_request(tmp_path: Path):
    prompt = tmp_path / "system.txt"
    prompt.write_text("You are the new support agent.")
    with serve(lambda request: Reply(content=production_answer(request.user_text))) as server:
        calls = _call(CandidateSpec(model="openai/candidate", api_base=server.base_url, system_prompt_file=str(prompt)),
                      _records(2), PATIENT)
        bodies = [r.body for r in server.requests]
    assert sorted(r.response for r in calls.responses) == [production_answer("where is parcel number 0?"),
                                                            production_answer("where is parcel number 1?")]
    assert all(b["messages"][0] == {"role": "system", "content": "You are the new support agent."} for b in bodies)
    assert {b["messages"][1]["content"] for b in bodies} == {"where is parcel number 0?", "where is parcel number 1?"}
    assert {(b["model"], b["temperature"]) for b in bodies} == {("candidate", 0)}


def test_candidate_answers_are_masked_before_anyone_sees_them():
    answer = {"response": "Write to jane.doe@example.com or call +44 20 7946 0958",
              "tool_calls": [{"name": "mail", "arguments": "to=jane.doe@example.com"}]}
    with candidate_server(lambda body: (200, answer)) as server:
        (r,) = _call(CandidateSpec(url=server.url), _records(1)).responses
    assert "example.com" not in r.response and "7946" not in r.response
    assert "<EMAIL:" in r.response and "<PHONE:" in r.response
    assert r.tool_calls[0]["arguments"].startswith("to=<EMAIL:")


def test_names_in_a_candidates_json_tool_calls_are_masked_value_by_value():
    # spaCy finds no name in this compact JSON read whole; value by value it does.
    answer = {"response": "Done.", "tool_calls": [{"name": "crm", "arguments": '{"customer":"Margaret Thornbury",'
                                                   '"order_id":"A-1234","qty":2}', "result": "ok"}]}
    with candidate_server(lambda body: (200, answer)) as server:
        (r,) = _call(CandidateSpec(url=server.url), _records(1)).responses
    args = json.loads(r.tool_calls[0]["arguments"])
    assert args["customer"].startswith("<PERSON:") and (args["order_id"], args["qty"]) == ("A-1234", 2)
    assert r.tool_calls[0]["result"] == "ok" and r.response == "Done."


@pytest.mark.parametrize(("spec", "message"), [
    (CandidateSpec(), "Give exactly one candidate"),
    (CandidateSpec(fn="a.b:c", url="http://x"), "Give exactly one candidate"),
    (CandidateSpec(fn="no_colon_here"), "not of the form package.module:function"),
    (CandidateSpec(fn="no_such_module_anywhere:fn"), "cannot import 'no_such_module_anywhere'"),
    (CandidateSpec(fn=f"{FN}:no_such_function"), "has no callable 'no_such_function'"),
    (CandidateSpec(url="ftp://example"), "is not an http(s) URL"),
    (CandidateSpec(model="openai/x", system_prompt_file="/no/such/prompt.txt"), "system prompt file"),
])
def test_candidate_setup_mistakes_are_sentences(spec, message):
    with pytest.raises(GateSetupError, match=message.replace("(", r"\(").replace(")", r"\)")):
        open_candidate(spec, JUDGING)


def test_candidate_label_is_safe_for_partition_keys_and_file_names():
    assert CandidateSpec(url="http://127.0.0.1:8080/answer").label() == "127.0.0.1-8080-answer"
    assert CandidateSpec(model="openai/gpt-4.1-mini").label() == "openai-gpt-4.1-mini"
    assert CandidateSpec(name="v2 rc1", fn="a:b").label() == "v2-rc1"
