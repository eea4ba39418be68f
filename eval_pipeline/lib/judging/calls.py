"""One judgement through litellm: the slot on the wire, the budget, retries, and the answer turned into a verdict.

Calls: ``judging.concurrency`` bounds the requests in flight over all LLM judges together. For models
litellm serves through its OpenAI provider (OpenAI and any OpenAI-compatible server) the bound and the
timeout are enforced on the HTTP requests themselves, by the transport of the client handed to litellm,
so litellm's own per-call work overlaps the requests on the wire; for other providers they apply to
whole calls. Rate limits (429), server errors (5xx) and dropped connections are retried with exponential
backoff and jitter, waiting at least what ``Retry-After`` asks; other errors (400, 401, 404) are
``unknown`` / ``call_failed`` at once; a call that outlives ``timeout_s`` is ``unknown`` / ``timeout``.
Whatever happens, one failing record never fails the batch, and no error text quoting the record is kept.

litellm is imported lazily (it costs seconds); the package's ``__init__`` has set
``LITELLM_LOCAL_MODEL_COST_MAP=True`` by then, which keeps its import from fetching the price map.
"""

import asyncio
import email.utils
import logging
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eval_pipeline.lib.judging.catalog import LLMJudge
from eval_pipeline.lib.judging.prices import Prices
from eval_pipeline.lib.judging.prompts import build_messages, parse_answer, response_format
from eval_pipeline.lib.judging.settings import JudgeSettings
from eval_pipeline.lib.judging.verdict import (
    BUDGET_EXHAUSTED,
    CALL_FAILED,
    JUDGE_ABSTAINED,
    REFUSED,
    RETRIES_EXHAUSTED,
    TIMEOUT,
    UNPARSEABLE,
    Record,
    Verdict,
)

if TYPE_CHECKING:
    from eval_pipeline.lib.judging.runner import JudgingRun

_MAX_ERROR_CHARS = 200


@dataclass
class Call:
    """One judgement to make: a (record, LLM judge) pair whose answer is not cached."""

    slot: int
    spec: LLMJudge
    record: Record
    payload: dict[str, Any]
    key: str
    payload_hash: str
    result: Verdict | None = None


class Budget:
    """Admits a call only while what was spent, plus what the calls in flight may cost, stays within the
    limit. Until one call has been priced, only one call is in flight; afterwards a call is expected to
    cost as much as the dearest call so far."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.spent = 0.0
        self.reserved = 0.0
        self.in_flight = 0
        self.estimate: float | None = None
        self.cond = asyncio.Condition()

    async def reserve(self) -> float | None:
        """The amount reserved for one call, or None when the budget cannot pay for it."""
        if self.limit is None:
            return 0.0
        async with self.cond:
            while True:
                if self.spent >= self.limit:
                    return None
                if self.estimate is None:
                    if self.in_flight == 0:
                        self.in_flight += 1
                        return 0.0
                elif self.spent + self.reserved + self.estimate <= self.limit:
                    self.in_flight += 1
                    self.reserved += self.estimate
                    return self.estimate
                elif self.in_flight == 0:
                    return None
                await self.cond.wait()

    async def settle(self, reserved: float, cost: float | None) -> None:
        if self.limit is None:
            self.spent += cost or 0.0
            return
        async with self.cond:
            self.in_flight -= 1
            self.reserved -= reserved
            if cost is not None:
                self.spent += cost
                self.estimate = max(self.estimate or 0.0, cost)
            self.cond.notify_all()


@dataclass
class Session:
    """What the calls of one run share."""

    litellm: Any
    settings: JudgeSettings
    parameters: str  # the decoding parameters as sorted JSON, stored with every verdict
    slots: asyncio.Semaphore
    budget: Budget
    prices: Prices
    run: "JudgingRun"  # counts calls, spend and tokens
    client: Any = None  # the OpenAI client with the limited transport, when litellm's provider is openai


_RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}
# Calls litellm may prepare per slot on the wire, so a freed slot finds a request ready to send; a
# waiting call waits at most one round, well within its deadline.
PREPARED_AHEAD = 2


class _LimitedTransport:
    """An httpx transport that lets at most ``limit`` requests be on the wire at once and gives each
    ``timeout_s`` from the moment it is sent, so the limit and the timeout are what the server sees."""

    def __init__(self, inner: Any, limit: int, timeout_s: float) -> None:
        self.inner = inner
        self.slots = asyncio.Semaphore(limit)
        self.timeout_s = timeout_s

    async def handle_async_request(self, request: Any) -> Any:
        import httpx

        async with self.slots:
            try:
                async with asyncio.timeout(self.timeout_s):
                    response = await self.inner.handle_async_request(request)
                    # Read the body inside the slot: the exchange ends when the answer is in.
                    body = await response.aread()
                    await response.aclose()
            except TimeoutError:
                msg = f"no answer within {self.timeout_s:g} s"
                raise httpx.ReadTimeout(msg, request=request) from None
        return httpx.Response(response.status_code, headers=response.headers, content=body,
                              extensions=response.extensions, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def openai_client(litellm: Any, settings: JudgeSettings) -> Any:
    """An OpenAI client whose HTTP transport enforces the concurrency limit and the timeout, for models
    litellm serves through its OpenAI provider (OpenAI and OpenAI-compatible servers: vLLM, Ollama's
    /v1, LM Studio...); None for other providers, where the limit applies to whole calls."""
    endpoint = settings.endpoint
    try:
        _, provider, _, _ = litellm.get_llm_provider(endpoint.model, api_base=endpoint.api_base or None)
    except Exception:
        return None
    if provider != "openai":
        return None
    import httpx
    import openai

    from litellm.llms.custom_httpx.http_handler import AsyncHTTPHandler

    # litellm's own transport (aiohttp): httpcore's pool spends quadratic time matching requests to
    # connections once dozens are in flight.
    inner = AsyncHTTPHandler.create_async_transport() or httpx.AsyncHTTPTransport()
    transport = _LimitedTransport(inner, settings.judging.concurrency, settings.judging.timeout_s)
    http_client = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(None))  # type: ignore[arg-type]
    return openai.AsyncOpenAI(api_key=endpoint.api_key or os.environ.get("OPENAI_API_KEY") or "no-key-needed",
                              base_url=endpoint.api_base or None, http_client=http_client, max_retries=0)


# Loggers that write whole request bodies, trace content included, at DEBUG (litellm also logs every
# call at INFO on its own stderr handler).
_CHATTY_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "openai", "httpx")
_CALLBACK_LISTS = ("callbacks", "success_callback", "failure_callback", "_async_success_callback",
                   "_async_failure_callback", "input_callback", "service_callback")


def import_litellm() -> Any:
    """litellm, quiet: no banners, no trace content in logs or logging callbacks."""
    import litellm

    # Without this litellm prints provider-list banners to stdout on every failed call.
    litellm.suppress_debug_info = True
    # Keeps prompts and answers (trace content) out of whatever logging callback a user configured.
    # Redacting costs a deep copy of every call's logging payload, so only when there is a callback.
    if any(getattr(litellm, name, None) for name in _CALLBACK_LISTS):
        litellm.turn_off_message_logging = True
    # Raw trace text must never reach compute logs, even under a DEBUG root logger. A level the
    # application set explicitly (or LITELLM_LOG / OPENAI_LOG) is left alone.
    for name in _CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
    return litellm


async def judge_call(call: Call, session: Session) -> None:
    """Make ``call`` and put its verdict in ``call.result``; retries and budget included."""
    litellm, settings, run, client = session.litellm, session.settings, session.run, session.client
    spec, record, model = call.spec, call.record, settings.endpoint.model or ""
    messages = build_messages(spec, payload=call.payload)
    # A last resort against a call that never returns; the per-request timeout applies first (a call
    # may also wait up to one round for a slot on the wire).
    deadline_s = 2 * settings.judging.timeout_s + 5
    options = {"client": client} if client is not None else {}
    started = time.perf_counter()
    extra = {"parameters": session.parameters, "input_hash": call.payload_hash}
    for attempt in range(settings.judging.num_retries + 1):
        cost: float | None = None
        wait_s: float | None = None
        async with session.slots:
            # Asked inside the slot, so only the calls about to run wait on the budget.
            reserved = await session.budget.reserve()
            if reserved is None:
                run.budget_exhausted += 1
                call.result = unknown(spec, record, model, BUDGET_EXHAUSTED,
                                      f"the run's budget of {settings.budget_usd} USD was spent", **extra)
                return
            try:
                run.calls += 1
                attempt_started = time.perf_counter()
                try:
                    response = await asyncio.wait_for(
                        litellm.acompletion(
                            model=model,
                            api_base=settings.endpoint.api_base or None,
                            api_key=settings.endpoint.api_key or None,
                            messages=messages,
                            temperature=0,
                            max_tokens=settings.judging.max_tokens,
                            timeout=settings.judging.timeout_s,
                            num_retries=0,
                            max_retries=0,
                            response_format=response_format(spec.answer),
                            **options,
                        ),
                        timeout=deadline_s,
                    )
                except (TimeoutError, litellm.Timeout) as exc:
                    call.result = unknown(spec, record, model, TIMEOUT, describe_error(exc, record), started, **extra)
                    return
                except Exception as exc:  # one failing record never fails the batch
                    if not retryable(exc):
                        call.result = unknown(spec, record, model, CALL_FAILED, describe_error(exc, record), started,
                                              **extra)
                        return
                    call.result = unknown(spec, record, model, RETRIES_EXHAUSTED, describe_error(exc, record), started,
                                          **extra)
                    wait_s = retry_wait_s(exc, attempt, settings)
                else:
                    latency_ms = elapsed_ms(attempt_started)
                    try:
                        call.result = _verdict_from_response(spec, record, model, response, latency_ms,
                                                             session.prices, **extra)
                    except Exception as exc:  # a response litellm accepted but not shaped like a chat completion
                        call.result = unknown(spec, record, model, UNPARSEABLE, describe_error(exc, record), started,
                                              **extra)
                    cost = call.result.cost_usd
                    run.cost_usd += cost or 0.0
                    run.input_tokens += call.result.input_tokens or 0
                    run.output_tokens += call.result.output_tokens or 0
                    return
            finally:
                await session.budget.settle(reserved, cost)
        if attempt < settings.judging.num_retries and wait_s is not None:
            await asyncio.sleep(wait_s)


def retryable(exc: BaseException) -> bool:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status in _RETRY_STATUSES
    # No HTTP status: the connection failed or dropped before an answer (litellm's, httpx's and the
    # standard library's names for it).
    return type(exc).__name__ in _CONNECTION_ERRORS or isinstance(exc, ConnectionError)


_CONNECTION_ERRORS = {"APIConnectionError", "ServiceUnavailableError", "InternalServerError", "ConnectError",
                      "ReadError", "WriteError", "RemoteProtocolError"}


def _retry_after_s(exc: BaseException) -> float | None:
    headers: Any = getattr(exc, "litellm_response_headers", None)
    response = getattr(exc, "response", None)
    if headers is None and response is not None:
        headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return None if parsed is None else max(parsed.timestamp() - time.time(), 0.0)


def retry_wait_s(exc: BaseException, attempt: int, settings: JudgeSettings) -> float:
    """Exponential backoff with full jitter, never shorter than the server's ``Retry-After``."""
    jittered = random.uniform(0.5, 1.0) * settings.judging.backoff_s * 2**attempt
    retry_after = _retry_after_s(exc)
    wait = jittered if retry_after is None else max(retry_after, jittered * 0.1)
    return min(wait, settings.judging.max_backoff_s)


def _verdict_from_response(
    spec: LLMJudge,
    record: Record,
    model: str,
    response: Any,
    latency_ms: float,
    prices: Prices,
    **extra: Any,
) -> Verdict:
    usage = getattr(response, "usage", None)
    input_tokens = getattr(usage, "prompt_tokens", None)
    output_tokens = getattr(usage, "completion_tokens", None)
    cost = prices.cost(response, input_tokens, output_tokens)
    message = response.choices[0].message if getattr(response, "choices", None) else None
    content = getattr(message, "content", None)
    refusal = getattr(message, "refusal", None)
    answer = parse_answer(content, spec.answer)
    if answer is not None:
        # The judge may say it cannot tell: an abstention, kept with its rationale, never a pass.
        reason = JUDGE_ABSTAINED if answer.verdict == "unknown" else None
        verdict, rationale = answer.verdict, answer.rationale.strip()
    elif refusal:
        verdict, rationale, reason = "unknown", "the judge refused to answer", REFUSED
    else:
        verdict, reason = "unknown", UNPARSEABLE
        rationale = f"the judge's answer ({len(content or '')} characters) is not the expected JSON object"
    return Verdict(
        judge=spec.name,
        verdict=verdict,  # type: ignore[arg-type]
        rationale=rationale,
        unknown_reason=reason,
        model=model,
        prompt_version=spec.prompt_version,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=cost,
        latency_ms=latency_ms,
        trace_id=record.get("trace_id"),
        **extra,
    )


def unknown(
    spec: LLMJudge,
    record: Record,
    model: str | None,
    reason: str,
    rationale: str,
    started: float | None = None,
    *,
    parameters: str | None = None,
    input_hash: str | None = None,
) -> Verdict:
    """An unknown verdict of ``spec``: with ``started`` a call was made (its cost is not known, its latency
    runs from ``started``), without it nothing was spent."""
    return Verdict(
        judge=spec.name,
        verdict="unknown",
        rationale=rationale,
        unknown_reason=reason,
        model=model,
        prompt_version=spec.prompt_version,
        input_tokens=None,
        output_tokens=None,
        cost_usd=None if started is not None else 0.0,
        latency_ms=None if started is None else elapsed_ms(started),
        trace_id=record.get("trace_id"),
        parameters=parameters,
        input_hash=input_hash,
    )


def describe_error(exc: BaseException, record: Record) -> str:
    """The exception's class and the first line of its message, never the record's content."""
    lines = str(exc).strip().splitlines()
    message = lines[0] if lines else ""
    if len(message) > _MAX_ERROR_CHARS:
        message = message[: _MAX_ERROR_CHARS - 1] + "…"
    if _quotes_record(message, record):
        message = "(message withheld: it quotes the record's content)"
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


def _quotes_record(message: str, record: Record) -> bool:
    texts: list[Any] = []
    for name in ("request", "response", "retrieved_context", "expected_response"):
        value = record.get(name)
        texts.extend(value if isinstance(value, list | tuple) else [value])
    for call in record.get("tool_calls") or []:
        if isinstance(call, Mapping):
            texts.extend([call.get("arguments"), call.get("result")])
    for text in texts:
        if isinstance(text, str) and len(text.strip()) >= 12 and text.strip()[:40] in message:
            return True
    return False


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
