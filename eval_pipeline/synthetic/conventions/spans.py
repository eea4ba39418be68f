"""The span record every convention encoder builds, and the pieces several conventions share: the
exception event, the root's messages, OpenAI-style and flattened (``prefix.N.role``) message spellings."""

import random
from dataclasses import dataclass
from typing import Any

from eval_pipeline.synthetic.content import App
from eval_pipeline.synthetic.plans import Step, TracePlan, dumps


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: int
    start: int
    end: int
    attrs: dict[str, Any]
    events: list[tuple[str, int, dict[str, Any]]]
    status: int
    message: str | None
    family: str
    scope: tuple[str, str]


def _exception_event(t: int, etype: str, message: str, language: str) -> tuple[str, int, dict[str, Any]]:
    if language == "nodejs":
        stack = f"{etype}: {message}\n    at executeTools (node_modules/ai/dist/index.mjs:4123:17)\n    at async run"
    else:
        stack = ("Traceback (most recent call last):\n  File \"agent/runtime.py\", line 88, in run\n"
                 f"    return await self._call(**kwargs)\n{etype}: {message}")
    return ("exception", t, {"exception.type": etype, "exception.message": message,
                             "exception.stacktrace": stack, "exception.escaped": False})


def _span(p: TracePlan, app: App, span_id: str, parent: str | None, name: str, kind: int, start: int, end: int,
          attrs: dict[str, Any], scope: tuple[str, str], events: list | None = None,
          error: tuple[str | None, str | None] = (None, None), ok: bool = False) -> Span:
    events = list(events or ())
    status, message = (1 if ok else 0), None
    if error[0]:
        status, message = 2, error[1]
        events.append(_exception_event(end, error[0], error[1] or "", app.language))
    return Span(p.trace_id, span_id, parent, name, kind, start, end, attrs, events, status, message, app.family,
                scope)


def child_span(p: TracePlan, app: App, s: Step, name: str, kind: int, attrs: dict[str, Any], scope: tuple[str, str],
               events: list | None = None, ok: bool = False) -> Span:
    """The span of one step under the root; a failed step has status ERROR and an exception event, ``ok``
    marks the others OK (the SDKs that set it) instead of UNSET."""
    return _span(p, app, s.span_id, p.root_span_id, name, kind, s.start_ns, s.end_ns, attrs, scope, events,
                 error=(s.error_type, s.error_message), ok=ok)


def with_root(spans: list[Span], p: TracePlan, app: App, name: str, attrs: dict[str, Any],
              ctx: dict[str, Any] | None = None, ok: bool = False) -> list[Span]:
    """The children with the agent turn's root span in front; ``ctx`` (attributes an SDK puts on every span)
    comes after the root's own, and a failed turn also carries ``error.type``."""
    if p.error_type:
        attrs["error.type"] = p.error_type
    root = _span(p, app, p.root_span_id, None, name, 1, p.start_ns, p.end_ns, attrs | (ctx or {}), app.scope_agent,
                 error=(p.error_type, p.error_message), ok=ok)
    return [root, *spans]


def root_messages(p: TracePlan) -> list[dict[str, Any]]:
    return [*p.history, {"role": "user", "content": p.question}]


def finish_reason(s: Step) -> str:
    return (s.output or {}).get("finish_reason") or "error"


def openai_messages(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for m in msgs:
        if m.get("tool_calls"):
            out.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": tc["id"], "type": "function",
                 "function": {"name": tc["name"], "arguments": dumps(tc["arguments"])}} for tc in m["tool_calls"]]})
        elif m["role"] == "tool":
            out.append({"role": "tool", "tool_call_id": m["tool_call_id"], "content": m["content"]})
        else:
            out.append({"role": m["role"], "content": m["content"]})
    return out


def flat_legacy(prefix: str, msgs: list[dict[str, Any]], a: dict[str, Any]) -> None:
    for i, m in enumerate(msgs):
        a[f"{prefix}.{i}.role"] = m["role"]
        if m.get("content") is not None:
            a[f"{prefix}.{i}.content"] = m["content"]
        if "finish_reason" in m:
            a[f"{prefix}.{i}.finish_reason"] = m["finish_reason"]
        for j, tc in enumerate(m.get("tool_calls") or ()):
            a[f"{prefix}.{i}.tool_calls.{j}.id"] = tc["id"]
            a[f"{prefix}.{i}.tool_calls.{j}.name"] = tc["name"]
            a[f"{prefix}.{i}.tool_calls.{j}.arguments"] = dumps(tc["arguments"])
        if m["role"] == "tool":
            a[f"{prefix}.{i}.tool_call_id"] = m["tool_call_id"]


def hexid(v: random.Random, n: int) -> str:
    return f"{v.getrandbits(n * 4):0{n}x}"
