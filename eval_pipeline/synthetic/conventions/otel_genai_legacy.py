"""OpenTelemetry GenAI semantic conventions before 1.37: ``gen_ai.system``, ``prompt_tokens`` usage names,
content as per-message span events or as indexed ``gen_ai.prompt.N.*`` attributes, tools without content,
retrieval as the vector store's own database span."""

import random
from typing import Any

from eval_pipeline.synthetic.content import TOOLS, App
from eval_pipeline.synthetic.conventions.spans import (
    Span,
    child_span,
    finish_reason,
    flat_legacy,
    root_messages,
    with_root,
)
from eval_pipeline.synthetic.plans import Step, TracePlan, dumps


def _legacy_events(s: Step, system: str) -> list[tuple[str, int, dict[str, Any]]]:
    names = {"system": "gen_ai.system.message", "user": "gen_ai.user.message",
             "assistant": "gen_ai.assistant.message", "tool": "gen_ai.tool.message"}
    out = []
    for m in s.messages:
        ea: dict[str, Any] = {"gen_ai.system": system}
        if m.get("content") is not None:
            ea["content"] = m["content"]
        if m.get("tool_calls"):
            ea["tool_calls"] = [{"id": tc["id"], "type": "function",
                                 "function": {"name": tc["name"], "arguments": dumps(tc["arguments"])}}
                                for tc in m["tool_calls"]]
        if m["role"] == "tool":
            ea["id"] = m["tool_call_id"]
        out.append((names[m["role"]], s.start_ns, ea))
    if s.output:
        msg: dict[str, Any] = {"role": "assistant"}
        if s.output.get("content"):
            msg["content"] = s.output["content"]
        if s.output.get("tool_calls"):
            msg["tool_calls"] = [{"id": tc["id"], "type": "function",
                                  "function": {"name": tc["name"], "arguments": dumps(tc["arguments"])}}
                                 for tc in s.output["tool_calls"]]
        out.append(("gen_ai.choice", s.end_ns, {"gen_ai.system": system, "index": 0,
                                                "finish_reason": finish_reason(s), "message": msg}))
    return out


def encode(p: TracePlan, app: App, v: random.Random) -> list[Span]:
    spans = []
    as_events = v.random() < 0.5  # content as per-message span events, or as indexed prompt attributes
    for s in p.steps:
        if s.kind == "llm":
            a: dict[str, Any] = {"gen_ai.operation.name": "chat", "gen_ai.system": p.provider,
                                 "gen_ai.request.model": p.model_request, "gen_ai.request.temperature": 0.0,
                                 "gen_ai.request.top_p": 0.95}
            events = []
            if as_events:
                events = _legacy_events(s, p.provider)
            else:
                flat_legacy("gen_ai.prompt", s.messages, a)
                if s.output:
                    flat_legacy("gen_ai.completion", [s.output], a)
            if s.output:
                a |= {"gen_ai.response.model": p.model, "gen_ai.response.finish_reasons": [finish_reason(s)],
                      "gen_ai.usage.prompt_tokens": s.input_tokens, "gen_ai.usage.completion_tokens": s.output_tokens}
            else:
                a["error.type"] = s.error_type
            spans.append(child_span(p, app, s, f"chat {p.model_request}", 3, a, app.scope_llm, events))
        elif s.kind == "tool":
            # Content capture off for tools, as the older instrumentations did: name and id only.
            a = {"gen_ai.operation.name": "execute_tool", "gen_ai.system": p.provider, "gen_ai.tool.name": s.tool,
                 "gen_ai.tool.call.id": s.call_id, "gen_ai.tool.description": TOOLS[s.tool][0]}
            if s.error_type:
                a["error.type"] = s.error_type
            spans.append(child_span(p, app, s, f"execute_tool {s.tool}", 1, a, app.scope_agent))
        else:
            # No retrieval operation in the older conventions: the vector store's own database span.
            a = {"db.system.name": "qdrant", "db.operation.name": "search", "db.collection.name": "help_centre",
                 "db.query.text": s.query, "db.response.returned_rows": len(s.documents or ())}
            spans.append(child_span(p, app, s, "search help_centre", 3, a, app.scope_agent))
    a = {"gen_ai.operation.name": "invoke_agent", "gen_ai.system": p.provider, "gen_ai.agent.name": app.agent,
         "gen_ai.request.model": p.model_request, "session.id": p.session_id, "enduser.id": p.user_id}
    flat_legacy("gen_ai.prompt", root_messages(p), a)
    if p.answer:
        a["gen_ai.completion.0.role"] = "assistant"
        a["gen_ai.completion.0.content"] = p.answer
    return with_root(spans, p, app, f"invoke_agent {app.agent}", a)
