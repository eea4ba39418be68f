"""Release candidates: the three ways to plug one in, each answering one masked request at a time.

- ``model``: an OpenAI-compatible chat endpoint (or any litellm model string) through litellm, the way
  the judges are called: an optional system prompt (a file), then the request as the user message.
- ``fn``: a Python callable ``package.module:function``, called as ``fn(request, context)`` (sync or
  async) and returning the response text, or a dict with ``response`` and optionally ``tool_calls``.
- ``url``: an HTTP endpoint: ``POST {"request": ..., "context": {...}}`` as JSON, answering 200 with
  ``{"response": ..., "tool_calls": [...]}`` (``tool_calls`` optional).

A candidate sees masked text only: the masked request and the record's ``context`` (:data:`CONTEXT_FIELDS`:
its id, stratum, status, tool path, retrieved documents, curated tags), never the production response.
A tool call is ``{"name", "arguments", "result", "status"}``. A failed call raises; ``responses.py`` makes
it a recorded failure.
"""

import asyncio
import concurrent.futures
import dataclasses
import importlib
import inspect
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eval_pipeline.lib.config import GateCandidate, Judging
from eval_pipeline.lib.gate.errors import GateSetupError
from eval_pipeline.lib.judging import Endpoint, JudgeSettings, import_litellm
from eval_pipeline.lib.judging.calls import openai_client
from eval_pipeline.lib.judging.prices import register_prices

# What a candidate is told about a record besides its request.
CONTEXT_FIELDS = ("record_id", "section", "stratum", "status", "tool_path", "retrieved_context", "tags")
_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class CandidateSpec(GateCandidate):
    """How to reach a candidate (the fields of a ``gate.candidates`` entry): exactly one of ``model``, ``fn``
    or ``url``; ``name`` labels its gates (default: derived from the target). A litellm candidate's key
    is ``EVAL_CANDIDATE_API_KEY`` or the provider's usual variable; a local server needs none."""

    @property
    def kind(self) -> str:
        """'litellm', 'callable' or 'http'."""
        given = [kind for kind, value in (("litellm", self.model), ("callable", self.fn), ("http", self.url)) if value]
        if len(given) != 1:
            msg = ("Give exactly one candidate: --candidate-model M (with --candidate-api-base URL), "
                   "--candidate-fn package.module:function or --candidate-url URL.")
            raise GateSetupError(msg)
        return given[0]

    @property
    def target(self) -> str:
        return self.model or self.fn or self.url

    def label(self) -> str:
        """The candidate's name in tables, partition keys and file names: letters, digits, '_', '.', '-'."""
        raw = self.name or re.sub(r"^https?://", "", self.target)
        return _NAME.sub("-", raw).strip("-")[:80] or "candidate"


def spec_from_config(candidate: GateCandidate) -> CandidateSpec:
    """A candidate declared under ``gate.candidates`` in the YAML config."""
    return CandidateSpec(**dataclasses.asdict(candidate))


@dataclass(frozen=True)
class Answer:
    """What a candidate answered: the response text (None: no text), its tool calls when it reported any,
    and the call's cost in USD when known."""

    response: str | None
    tool_calls: list[dict[str, Any]] | None = None
    cost_usd: float | None = None


class CandidateOutputError(Exception):
    """The candidate answered with something that is not a response."""


class CandidateHTTPError(Exception):
    """The HTTP candidate answered with an error status (``status_code``; ``response`` for Retry-After)."""

    def __init__(self, status_code: int, response: Any) -> None:
        super().__init__(f"HTTP {status_code} from the candidate")
        self.status_code = status_code
        self.response = response


def parse_output(out: Any) -> Answer:
    """A callable's or HTTP endpoint's answer: the response text (None: the agent gave no final answer), or
    a mapping with ``response`` (text or null) and optionally ``tool_calls``."""
    if out is None or isinstance(out, str):
        return Answer(out)
    if not isinstance(out, Mapping) or "response" not in out:
        msg = (f"the candidate returned {type(out).__name__}; return the response text or an object with "
               "'response' and optionally 'tool_calls'")
        raise CandidateOutputError(msg)
    response = out["response"]
    if response is not None and not isinstance(response, str):
        msg = f"the candidate's 'response' is {type(response).__name__}, not text"
        raise CandidateOutputError(msg)
    calls = out.get("tool_calls")
    if calls is None:
        return Answer(response)
    if not isinstance(calls, list) or not all(isinstance(c, Mapping) for c in calls):
        msg = "the candidate's 'tool_calls' is not a list of objects with name, arguments, result, status"
        raise CandidateOutputError(msg)
    return Answer(response, [_tool_call(c) for c in calls])


def _tool_call(call: Mapping[str, Any]) -> dict[str, Any]:
    def text(value: Any) -> str | None:
        return value if value is None or isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    return {"name": text(call.get("name")), "arguments": text(call.get("arguments")),
            "result": text(call.get("result")), "status": text(call.get("status"))}


class LiteLLMCandidate:
    """A chat model through litellm: the system prompt file, then the request; temperature 0."""

    def __init__(self, spec: CandidateSpec, judging: Judging) -> None:
        self.spec = spec
        self.system_prompt = _system_prompt(spec.system_prompt_file)
        api_key = os.environ.get("EVAL_CANDIDATE_API_KEY") or None
        if api_key is None and spec.api_base and spec.model.startswith("openai/") \
                and not os.environ.get("OPENAI_API_KEY"):
            api_key = "no-key-needed"  # a local OpenAI-compatible server; the client refuses to send without one
        # The candidate's own prices are litellm's; the configured judging prices are the judge model's.
        unpriced = replace(judging, budget_usd=0.0, input_price_per_mtok=0.0, output_price_per_mtok=0.0)
        self.settings = JudgeSettings(endpoint=Endpoint(spec.model, spec.api_base or None, api_key), judging=unpriced)
        self.litellm: Any = None
        self.client: Any = None

    async def start(self) -> None:
        self.litellm = import_litellm()
        self.prices = register_prices(self.litellm, self.settings)
        self.client = openai_client(self.litellm, self.settings)

    async def answer(self, request: str, context: dict[str, Any]) -> Answer:
        endpoint = self.settings.endpoint
        messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        messages.append({"role": "user", "content": request})
        response = await self.litellm.acompletion(
            model=endpoint.model, api_base=endpoint.api_base, api_key=endpoint.api_key, messages=messages,
            temperature=0, timeout=self.settings.judging.timeout_s, num_retries=0, max_retries=0,
            **({"client": self.client} if self.client is not None else {}))
        message = response.choices[0].message
        usage = getattr(response, "usage", None)
        cost = self.prices.cost(response, getattr(usage, "prompt_tokens", None),
                                getattr(usage, "completion_tokens", None))
        calls = [{"name": c.function.name, "arguments": c.function.arguments, "result": None, "status": None}
                 for c in (getattr(message, "tool_calls", None) or [])]
        return Answer(message.content, calls or None, cost)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


class CallableCandidate:
    """``package.module:function``; a synchronous one runs in a thread of its own pool, so a call that
    never returns is given up at its timeout without holding the gate."""

    def __init__(self, spec: CandidateSpec, judging: Judging) -> None:
        self.fn = import_callable(spec.fn)
        self.pool = concurrent.futures.ThreadPoolExecutor(max(1, judging.concurrency),
                                                          thread_name_prefix="gate-candidate")

    async def start(self) -> None:
        return None

    async def answer(self, request: str, context: dict[str, Any]) -> Answer:
        if inspect.iscoroutinefunction(self.fn):
            return parse_output(await self.fn(request, context))
        loop = asyncio.get_running_loop()
        return parse_output(await loop.run_in_executor(self.pool, self.fn, request, context))

    async def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class HttpCandidate:
    """An HTTP endpoint taking and returning JSON."""

    def __init__(self, spec: CandidateSpec, judging: Judging) -> None:
        if not re.match(r"https?://", spec.url):
            msg = f"--candidate-url {spec.url!r} is not an http(s) URL; give e.g. http://127.0.0.1:8080/answer."
            raise GateSetupError(msg)
        self.url = spec.url
        self.judging = judging
        self.client: Any = None

    async def start(self) -> None:
        import httpx

        self.client = httpx.AsyncClient(timeout=httpx.Timeout(self.judging.timeout_s),
                                        limits=httpx.Limits(max_connections=self.judging.concurrency))

    async def answer(self, request: str, context: dict[str, Any]) -> Answer:
        reply = await self.client.post(self.url, json={"request": request, "context": context})
        if reply.status_code >= 400:
            raise CandidateHTTPError(reply.status_code, reply)
        try:
            body = reply.json()
        except ValueError:
            msg = f"the candidate answered HTTP {reply.status_code} with a body that is not JSON"
            raise CandidateOutputError(msg) from None
        return parse_output(body)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()


Candidate = LiteLLMCandidate | CallableCandidate | HttpCandidate
_KINDS = {"litellm": LiteLLMCandidate, "callable": CallableCandidate, "http": HttpCandidate}


def open_candidate(spec: CandidateSpec, judging: Judging) -> Candidate:
    """The candidate ``spec`` names, checked as far as it can be without a call (a callable is imported,
    a system prompt file read); raises GateSetupError with what to fix."""
    return _KINDS[spec.kind](spec, judging)


def import_callable(target: str) -> Any:
    """``package.module:function`` imported, from the working directory too (as ``python -m`` would);
    GateSetupError when it cannot be."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        msg = f"--candidate-fn {target!r} is not of the form package.module:function."
        raise GateSetupError(msg)
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        msg = (f"--candidate-fn: cannot import {module_name!r} ({type(exc).__name__}: {exc}); put its folder on "
               "PYTHONPATH or install its package.")
        raise GateSetupError(msg) from None
    fn = module
    for part in attr.split("."):
        fn = getattr(fn, part, None)
    if not callable(fn):
        msg = f"--candidate-fn: {module_name!r} has no callable {attr!r}."
        raise GateSetupError(msg)
    return fn


def _system_prompt(path: str) -> str | None:
    if not path:
        return None
    p = Path(path)
    if not p.is_file():
        msg = f"The candidate's system prompt file {p} does not exist; fix --candidate-system-prompt."
        raise GateSetupError(msg)
    return p.read_text(encoding="utf-8")
