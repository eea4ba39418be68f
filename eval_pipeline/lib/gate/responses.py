"""Put every record's request to the candidate and record what came back, failures included.

Calls share the judges' limits (``judging``): at most ``concurrency`` in flight, ``timeout_s`` per call,
``num_retries`` retries of rate limits, server errors and dropped connections (exponential backoff, at
least what ``Retry-After`` asks), and the run's budget (what a litellm candidate's calls cost counts
against ``judging.budget_usd`` before the judges spend the rest). A call that fails for good is a
recorded failure with its reason (``timeout``, ``retries_exhausted``, ``call_failed``, ``bad_response``,
``budget_exhausted``), never a skip. When the first calls all fail and none has succeeded the candidate
is taken to be unreachable: the records not yet asked are recorded as ``not_called``, so a gate against
an endpoint that is down ends in seconds. The answers are masked with the traces' key before anyone
stores or judges them, so a placeholder the candidate repeats stays the same placeholder and a value it
invents is masked like one in a trace.
"""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from eval_pipeline.lib import masking
from eval_pipeline.lib.config import Judging, Privacy
from eval_pipeline.lib.gate.candidates import Answer, Candidate, CandidateOutputError
from eval_pipeline.lib.gate.curated import name_detector
from eval_pipeline.lib.gate.inputs import GateRecord
from eval_pipeline.lib.judging.calls import Budget, describe_error, elapsed_ms, retry_wait_s, retryable
from eval_pipeline.lib.judging.runner import run_sync
from eval_pipeline.lib.judging.settings import JudgeSettings

# Failures in a row, with no success before them, after which the candidate is taken to be unreachable.
ABORT_AFTER = 5
_TOOL_TEXT = ("arguments", "result")


@dataclass
class CandidateResponse:
    """The candidate's answer to one record (masked), or why there is none."""

    record_id: str
    response: str | None = None
    tool_calls: list[dict[str, Any]] | None = None  # None: the candidate reported none
    latency_ms: float | None = None
    error: str | None = None  # what went wrong (class and first line), None when it answered
    error_kind: str | None = None
    attempts: int = 0
    cost_usd: float | None = None

    @property
    def status(self) -> str:
        return "ok" if self.error_kind is None else "error"


@dataclass
class CandidateCalls:
    """Every record's response, in record order, and what the calls spent."""

    responses: list[CandidateResponse]
    spent_usd: float = 0.0
    calls: int = 0  # requests sent, retries included

    @property
    def failed(self) -> list[CandidateResponse]:
        return [r for r in self.responses if r.error_kind is not None]


class _State:
    def __init__(self, judging: Judging, budget_usd: float | None) -> None:
        self.judging = judging
        self.slots = asyncio.Semaphore(max(1, judging.concurrency))
        self.budget = Budget(budget_usd)
        self.successes = 0
        self.failures = 0
        self.calls = 0

    @property
    def unreachable(self) -> bool:
        return self.successes == 0 and self.failures >= ABORT_AFTER


def call_candidate(candidate: Candidate, records: Sequence[GateRecord], judging: Judging,
                   budget_usd: float | None, key: bytes, privacy: Privacy) -> CandidateCalls:
    """Ask ``candidate`` every record's request, with the limits above; the answers come back masked."""
    calls = run_sync(_call_all(candidate, list(records), judging, budget_usd))
    _mask(calls.responses, key, privacy)
    return calls


async def _call_all(candidate: Candidate, records: list[GateRecord], judging: Judging,
                    budget_usd: float | None) -> CandidateCalls:
    state = _State(judging, budget_usd)
    await candidate.start()
    try:
        responses = await asyncio.gather(*(_call_one(candidate, r, state) for r in records))
    finally:
        await candidate.close()
    return CandidateCalls(list(responses), state.budget.spent, state.calls)


async def _call_one(candidate: Candidate, record: GateRecord, state: _State) -> CandidateResponse:
    judging = state.judging
    out = CandidateResponse(record.record_id)
    context = record.context()
    # The request is masked text already; an error message quoting it is withheld all the same.
    quoted = {"request": record.request}
    started = time.perf_counter()
    for attempt in range(judging.num_retries + 1):
        wait_s = None
        async with state.slots:
            if state.unreachable:
                out.error_kind, out.error = "not_called", (f"not called: the candidate's first {ABORT_AFTER} calls "
                                                           "all failed")
                return out
            reserved = await state.budget.reserve()
            if reserved is None:
                out.error_kind, out.error = "budget_exhausted", "the run's budget was spent before this call"
                return out
            cost = None
            try:
                state.calls += 1
                out.attempts += 1
                attempt_started = time.perf_counter()
                answer: Answer = await asyncio.wait_for(candidate.answer(record.request, context),
                                                        timeout=judging.timeout_s)
            except TimeoutError:
                _fail(out, state, "timeout", f"no answer within {judging.timeout_s:g} s", started)
                return out
            except CandidateOutputError as exc:
                _fail(out, state, "bad_response", str(exc), started)
                return out
            except Exception as exc:  # one failing record never fails the gate's other calls
                kind = "timeout" if type(exc).__name__ in ("Timeout", "TimeoutException", "ReadTimeout") else None
                if kind or not retryable(exc):
                    _fail(out, state, kind or "call_failed", describe_error(exc, quoted), started)
                    return out
                out.error_kind, out.error = "retries_exhausted", describe_error(exc, quoted)
                wait_s = retry_wait_s(exc, attempt, JudgeSettings(judging=judging))
            else:
                cost = answer.cost_usd
                out.response, out.tool_calls, out.cost_usd = answer.response, answer.tool_calls, cost
                out.latency_ms, out.error, out.error_kind = elapsed_ms(attempt_started), None, None
                state.successes += 1
                return out
            finally:
                await state.budget.settle(reserved, cost)
        if attempt < judging.num_retries:
            await asyncio.sleep(wait_s or 0.0)
    state.failures += 1
    out.latency_ms = elapsed_ms(started)
    return out


def _fail(out: CandidateResponse, state: _State, kind: str, error: str, started: float) -> None:
    out.error_kind, out.error, out.latency_ms = kind, error, elapsed_ms(started)
    state.failures += 1


def _mask(responses: list[CandidateResponse], key: bytes, privacy: Privacy) -> None:
    """Mask every answer's text and tool calls in place, as masking treats a trace."""
    answered = [r for r in responses if r.error_kind is None]
    if not answered:
        return
    calls = [[{k: c.get(k) for k in ("name", *_TOOL_TEXT, "status")} for c in (r.tool_calls or [])] for r in answered]
    call_type = pl.List(pl.Struct({"name": pl.String, "arguments": pl.String, "result": pl.String,
                                   "status": pl.String}))
    frame = pl.DataFrame({"response": [r.response for r in answered], "tool_calls": calls},
                         schema={"response": pl.String, "tool_calls": call_type})
    masked, _ = masking.mask_frame(frame, key)
    names = name_detector(privacy.name_detector, privacy.spacy_model)
    if names is not None:  # the name tier as on eval records: each answer one group, JSON value by value
        masked, _ = masking.mask_records(masked, key, names)
    for r, text, masked_calls in zip(answered, masked["response"], masked["tool_calls"], strict=True):
        r.response = text
        if r.tool_calls is not None:
            r.tool_calls = list(masked_calls)
