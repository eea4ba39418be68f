"""Helpers for the judging tests: an eval record, a scripted judge that answers by markers planted in the
record's request, and settings pointing at the loopback OpenAI-compatible server."""

import asyncio
import json
import re
from typing import Any

from eval_pipeline.lib.config import Judging
from eval_pipeline.lib.judging import Endpoint, JudgeSettings, JudgingRun, Verdict, run_llm_judge
from eval_pipeline_tests.support.openai_server import ChatRequest, Reply, rate_limited, server_error

MODEL = "openai/test-judge"
KEY = "sk-test-not-a-secret"
PASS = '{"verdict": "pass", "rationale": "The response answers the question."}'
FAIL = '{"verdict": "fail", "rationale": "The response is about something else."}'
ABSTAIN = '{"rationale": "The response is cut off before it answers.", "verdict": "unknown"}'


def make_record(trace_id: str, request: str = "What is the capital of France?", **overrides: Any) -> dict:
    """An eval record as judge_records.sql reads it; ``overrides`` replace fields."""
    record = {
        "trace_id": trace_id,
        "request": request,
        "response": "Paris.",
        "status": "ok",
        "tool_path": ["search"],
        "tool_calls": [{"name": "search", "arguments": '{"q": "capital of France"}', "result": "Paris is the capital.",
                        "status": "ok"}],
        "retrieved_context": None,
        "latency_ms": 850,
        "expected_response": None,
    }
    record.update(overrides)
    return record


def by_marker(request: ChatRequest) -> Reply:
    """Answer according to a marker planted in the record's request text."""
    text = request.user_text
    if "[[fail]]" in text:
        return Reply(content=FAIL)
    if "[[abstain]]" in text:
        return Reply(content=ABSTAIN)
    if "[[malformed]]" in text:
        return Reply(content="Sure! I would say this one passes.")
    if "[[bad-verdict]]" in text:
        return Reply(content='{"verdict": "maybe", "rationale": "hard to say"}')
    if "[[refuse]]" in text:
        return Reply(content=None, refusal="I can't help with grading this.")
    if "[[hang]]" in text:
        return Reply(hang=True)
    if "[[500]]" in text:
        return server_error()
    if "[[400]]" in text:
        return Reply(status=400, content="The request is not valid.")
    if "[[429-once]]" in text and request.attempt == 1:
        return rate_limited(0)
    if "[[429-wait]]" in text and request.attempt == 1:
        return rate_limited(1)
    if "[[slow]]" in text:
        return Reply(content=PASS, delay_s=0.2)
    return Reply(content=PASS)


def server_settings(server: Any, **options: Any) -> JudgeSettings:
    """Settings for judging against ``server``: ``model``, ``api_base`` and ``api_key`` set the endpoint, every
    other option is a ``judging`` config setting (short timeout, no retries and a short backoff unless given)."""
    endpoint = {"model": MODEL, "api_base": server.base_url, "api_key": KEY}
    judging: dict[str, Any] = {"timeout_s": 5, "num_retries": 0, "backoff_s": 0.01}
    for name, value in options.items():
        (endpoint if name in endpoint else judging)[name] = value
    return JudgeSettings(endpoint=Endpoint(**endpoint), judging=Judging(**judging))


def run_judge(records: list[dict], server: Any, judge: str = "relevance", **options: Any) -> list[Verdict]:
    """One LLM judge on ``records`` against ``server`` (no cache)."""
    return asyncio.run(run_llm_judge(records, server_settings(server, **options), judge=judge))


def verdict_tuples(run: JudgingRun) -> list[tuple]:
    return [(v.judge, v.trace_id, v.verdict, v.unknown_reason) for v in run.verdicts]


def payload_of(request: ChatRequest) -> dict:
    """The record payload a judge was shown, taken out of its delimiter tags."""
    tag = re.search(r"<(data-[0-9a-f]{16})>", request.user_text).group(1)
    return json.loads(request.user_text.split(f"<{tag}>", 1)[1].rsplit(f"</{tag}>", 1)[0])
