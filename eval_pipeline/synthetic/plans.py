"""Traffic as intended, before it is written in a convention and a format: :class:`TracePlan` (one agent turn,
one trace) made of :class:`Step` s, with realistic timing, token counts, tool failures, retries and errors;
sessions of several turns; :func:`plan_traffic` spreads them over the days like real daily load.

Everything is deterministic for a seed: content comes from ``random.Random(seed)``, never from the wall clock
or the global random state.
"""

import datetime
import math
import random
from dataclasses import dataclass, field
from typing import Any

import orjson

from eval_pipeline.synthetic.content import APPS, FAMILIES, SYSTEM_PROMPT, TOOLS, App, new_customer
from eval_pipeline.synthetic.scenarios import Script, pick_scenario

NS = 1_000_000_000
MS = 1_000_000
DAY_NS = 86_400 * NS


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


@dataclass
class Step:
    """One child operation of an agent turn: an LLM call, a tool call or a retrieval."""

    kind: str  # "llm", "tool" or "retrieval"
    span_id: str
    start_ns: int
    end_ns: int
    # llm: the input messages (OpenAI-like neutral shape) and the assistant message produced
    messages: list[dict[str, Any]] = field(default_factory=list)
    output: dict[str, Any] | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int = 0
    # tool
    tool: str | None = None
    call_id: str | None = None
    arguments: dict[str, Any] | None = None
    result: Any = None
    # retrieval
    query: str | None = None
    documents: list[dict[str, Any]] | None = None
    error_type: str | None = None
    error_message: str | None = None


@dataclass
class TracePlan:
    """One agent turn (one trace) as intended, before it is written in a convention and a format."""

    trace_id: str
    root_span_id: str
    family: str
    service: str
    session_id: str
    user_id: str
    turn: int
    question: str
    answer: str | None
    history: list[dict[str, Any]]
    model_request: str
    model: str
    provider: str
    start_ns: int
    end_ns: int
    steps: list[Step]
    error_type: str | None = None
    error_message: str | None = None
    variant: int = 0  # seeds the per-trace writing choices (message shapes, optional attributes)

    @property
    def tool_path(self) -> list[str]:
        return [s.tool for s in self.steps if s.kind == "tool"]

    @property
    def input_tokens(self) -> int:
        return sum(s.input_tokens or 0 for s in self.steps if s.kind == "llm")

    @property
    def output_tokens(self) -> int:
        return sum(s.output_tokens or 0 for s in self.steps if s.kind == "llm")

    @property
    def n_spans(self) -> int:
        return 1 + len(self.steps)


_TRANSIENT_ERRORS = (("TimeoutError", "{tool} did not answer within 10 s"),
                     ("ConnectionError", "{tool}: upstream returned 503 Service Unavailable"),
                     ("httpx.ReadTimeout", "timed out reading from {tool} backend"))
_FATAL_ERRORS = (("PaymentDeclinedError", "card_declined: the issuer refused the operation"),
                 ("PermissionError", "agent may not call {tool} for an unverified customer"),
                 ("KeyError", "'customer_id'"))
_LLM_ERRORS = {"rate_limit": ("RateLimitError", "Error code: 429 - Rate limit reached for requests per minute"),
               "context_length": ("BadRequestError",
                                  "Error code: 400 - context_length_exceeded: maximum context length is 128000 tokens")}


def _tokens(text: str | None) -> int:
    return (len(text) + 3) // 4 if text else 0


def _prompt_tokens(messages: list[dict[str, Any]]) -> int:
    n = 3 + 55 * len(TOOLS)  # tool schemas sent with every request
    for m in messages:
        n += 4 + _tokens(m.get("content"))
        for tc in m.get("tool_calls") or ():
            n += 8 + _tokens(dumps(tc["arguments"]))
    return n


def _lognormal_ms(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


def _llm_ns(rng: random.Random, out_tokens: int) -> int:
    ms = _lognormal_ms(rng, 380, 0.35) + out_tokens * rng.uniform(9, 22)
    if rng.random() < 0.03:  # the latency tail: overloaded provider, retries inside the client
        ms *= rng.uniform(4, 12)
    return int(ms * MS)


def _tool_ns(rng: random.Random, tool: str) -> int:
    ms = _lognormal_ms(rng, TOOLS[tool][1], 0.55)
    if rng.random() < 0.025:
        ms *= rng.uniform(10, 40)
    return int(ms * MS)


def _span_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(64) or 1:016x}"


def _call_id(rng: random.Random, family: str) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    tail = "".join(rng.choice(alphabet) for _ in range(24))
    return f"toolu_01{tail}" if family in ("traceloop", "openinference") and rng.random() < 0.5 else f"call_{tail}"


# The share of traces that end in an error on steady days.
ERROR_RATE = 0.07


def _plan_trace(rng: random.Random, app: App, script: Script, t0: int, history: list[dict[str, Any]],
                session_id: str, user_id: str, turn: int, pre_gap_ns: int | None = None,
                error_rate: float = ERROR_RATE) -> TracePlan:
    req_model, model, provider = app.models[0] if rng.random() < 0.65 else rng.choice(app.models[1:])
    trace_id = f"{rng.getrandbits(128) or 1:032x}"
    root_id = _span_id(rng)
    t = t0 + (pre_gap_ns if pre_gap_ns is not None else rng.randint(2, 25) * MS)
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}, *history,
                                      {"role": "user", "content": script.question}]
    steps: list[Step] = []

    def gap() -> int:
        return rng.randint(1, 15) * MS

    def add_llm(output: dict[str, Any] | None, error: tuple[str, str] | None = None) -> None:
        nonlocal t
        inp = _prompt_tokens(messages)
        if output is None:
            out = 0
        elif output.get("tool_calls"):
            out = sum(12 + _tokens(dumps(tc["arguments"])) for tc in output["tool_calls"])
        else:
            out = _tokens(output["content"]) + rng.randint(0, 6)
        cached = 0
        if (turn or steps) and inp >= 1024 and rng.random() < 0.6:
            cached = int(inp * rng.uniform(0.5, 0.9)) // 128 * 128
        dur = _llm_ns(rng, out)
        if error:
            dur = min(dur, rng.randint(150, 900) * MS)
        step = Step("llm", _span_id(rng), t, t + dur, messages=list(messages), output=output,
                    input_tokens=None if error else inp, output_tokens=None if error else out,
                    cached_tokens=0 if error else cached)
        if error:
            step.error_type, step.error_message = error
        steps.append(step)
        t += dur + gap()

    def add_tools(calls: list[dict[str, Any]], results: list[Any], errors: list[tuple[str, str] | None]) -> None:
        nonlocal t
        end = t
        for call, result, error in zip(calls, results, errors, strict=True):
            start = t + rng.randint(0, 3) * MS  # parallel calls start together
            dur = _tool_ns(rng, call["name"])
            step = Step("tool", _span_id(rng), start, start + dur, tool=call["name"], call_id=call["id"],
                        arguments=call["arguments"], result=None if error else result)
            content = dumps(result)
            if error:
                step.error_type, step.error_message = error
                content = f"Error: {error[1]}"
            steps.append(step)
            messages.append({"role": "tool", "tool_call_id": call["id"], "name": call["name"], "content": content})
            end = max(end, start + dur)
        t = end + gap()

    if script.documents:
        dur = int(_lognormal_ms(rng, 180, 0.4) * MS)
        steps.append(Step("retrieval", _span_id(rng), t, t + dur, query=script.question,
                          documents=script.documents))
        t += dur + gap()
        context = "\n".join(d["content"] for d in script.documents)
        messages[0] = {"role": "system", "content": f"{SYSTEM_PROMPT}\n\nHelp-centre passages:\n{context}"}

    mode = None
    if rng.random() < error_rate:
        mode = rng.choice(("rate_limit", "context_length", "tool_fatal"))
        if mode == "tool_fatal" and not script.rounds:
            mode = "rate_limit"
    fatal_round = rng.randrange(len(script.rounds)) if mode == "tool_fatal" else None
    retry_round = rng.randrange(len(script.rounds)) if script.rounds and not mode and rng.random() < 0.15 else None
    root_error: tuple[str, str] | None = None

    for ri, round_ in enumerate(script.rounds):
        calls = [{"id": _call_id(rng, app.family), "name": name, "arguments": args} for name, args, _ in round_]
        results = [result for _, _, result in round_]
        add_llm({"role": "assistant", "content": None, "tool_calls": calls, "finish_reason": "tool_calls"})
        messages.append({"role": "assistant", "content": None, "tool_calls": calls})
        errors: list[tuple[str, str] | None] = [None] * len(calls)
        if ri in (fatal_round, retry_round):
            kind, text = rng.choice(_FATAL_ERRORS if ri == fatal_round else _TRANSIENT_ERRORS)
            errors[0] = (kind, text.format(tool=calls[0]["name"]))
        add_tools(calls, results, errors)
        if ri == fatal_round:
            root_error = errors[0]
            break
        if ri == retry_round:  # the model reads the error and calls the tool again, which works this time
            retry = [{"id": _call_id(rng, app.family), "name": calls[0]["name"], "arguments": calls[0]["arguments"]}]
            add_llm({"role": "assistant", "content": None, "tool_calls": retry, "finish_reason": "tool_calls"})
            messages.append({"role": "assistant", "content": None, "tool_calls": retry})
            add_tools(retry, [results[0]], [None])

    if root_error is None:
        if mode in _LLM_ERRORS:
            root_error = _LLM_ERRORS[mode]
            add_llm(None, root_error)
        else:
            add_llm({"role": "assistant", "content": script.answer, "finish_reason": "stop"})
    end = t + rng.randint(1, 8) * MS
    return TracePlan(
        trace_id, root_id, app.family, app.service, session_id, user_id, turn, script.question,
        None if root_error else script.answer, list(history), req_model, model, provider, t0, end, steps,
        root_error[0] if root_error else None, root_error[1] if root_error else None, rng.getrandbits(32),
    )


def _session_user(rng: random.Random, family: str) -> tuple[str, str]:
    h = rng.getrandbits(128)
    if family == "otel_genai":
        return f"conv_{h:032x}"[:29], f"user-{rng.randrange(100000):05d}"
    if family == "openinference":
        s = f"{h:032x}"
        return f"{s[:8]}-{s[8:12]}-4{s[13:16]}-a{s[17:20]}-{s[20:]}", f"u_{rng.getrandbits(32):08x}"
    if family == "mlflow":
        return f"sess-{h % 10**8:08d}", f"acct_{rng.randrange(10**6):06d}"
    if family == "vercel_ai":
        return f"chat_{h:032x}"[:21], f"usr_{rng.getrandbits(40):010x}"
    return f"session-{h:032x}"[:24], f"user-{rng.randrange(100000):05d}"


def plan_session(rng: random.Random, family: str, n_turns: int | None = None,
                 pre_gap_ns: int | None = None, error_rate: float = ERROR_RATE) -> list[TracePlan]:
    """A session's turns, timed from 0; the caller shifts them into place."""
    customer = new_customer(rng)
    session_id, user_id = _session_user(rng, family)
    if n_turns is None:
        n_turns = rng.choices((1, 2, 3, 4, 5, 6), weights=(30, 28, 20, 11, 7, 4))[0]
    plans: list[TracePlan] = []
    history: list[dict[str, Any]] = []
    t = 0
    for turn in range(n_turns):
        script = pick_scenario(rng, turn == 0)(rng, customer)
        plan = _plan_trace(rng, APPS[family], script, t, history, session_id, user_id, turn,
                           pre_gap_ns if turn == 0 else None, error_rate)
        plans.append(plan)
        history = [*history, {"role": "user", "content": plan.question}]
        if plan.answer:
            history.append({"role": "assistant", "content": plan.answer})
        t = plan.end_ns + int(_lognormal_ms(rng, 40_000, 0.7) * MS)  # the user reads and types
    return plans


def _shift(plan: TracePlan, delta: int) -> TracePlan:
    plan.start_ns += delta
    plan.end_ns += delta
    for s in plan.steps:
        s.start_ns += delta
        s.end_ns += delta
    return plan


# Relative traffic per UTC hour: quiet at night, busy in European and American working hours.
_HOURLY = (2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 10, 9, 10, 11, 11, 10, 9, 8, 7, 6, 5, 4, 3)


def day_ns(day: datetime.date) -> int:
    return (day - datetime.date(1970, 1, 1)).days * DAY_NS


def plan_traffic(start: datetime.date, days: int, sessions_per_day: int = 30, seed: int = 7,
                 error_rate: float = ERROR_RATE) -> list[TracePlan]:
    """The traces :func:`generate` writes for these arguments, ordered by start time; ``error_rate`` is the
    share of traces that end in an error (a rate limit, a context overflow or a fatal tool failure)."""
    if days < 1 or sessions_per_day < 1:
        msg = f"days ({days}) and sessions_per_day ({sessions_per_day}) must both be at least 1."
        raise ValueError(msg)
    if not 0.0 <= error_rate <= 1.0:
        msg = f"error_rate ({error_rate}) must be between 0 and 1."
        raise ValueError(msg)
    rng = random.Random(seed)
    plans: list[TracePlan] = []
    for d in range(days):
        day0 = day_ns(start) + d * DAY_NS
        order = list(FAMILIES)
        rng.shuffle(order)
        for i in range(sessions_per_day):
            session = plan_session(rng, order[i % len(order)], error_rate=error_rate)
            duration = session[-1].end_ns
            hour = rng.choices(range(24), weights=_HOURLY)[0]
            t = day0 + hour * 3600 * NS + rng.randrange(3600 * NS)
            t = max(day0, min(t, day0 + DAY_NS - duration - NS))
            plans.extend(_shift(p, t) for p in session)
        if d < days - 1:
            # One trace crossing midnight: the root starts at 23:59:5x, its children after 00:00.
            before = rng.randint(1, 9) * NS
            session = plan_session(rng, order[sessions_per_day % len(order)], n_turns=1,
                                   pre_gap_ns=before + rng.randint(50, 400) * MS)
            plans.extend(_shift(p, day0 + DAY_NS - before) for p in session)
    plans.sort(key=lambda p: (p.start_ns, p.trace_id))
    return plans
