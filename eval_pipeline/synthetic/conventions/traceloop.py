"""Traceloop / OpenLLMetry: ``traceloop.span.kind`` and ``traceloop.entity.*`` for agents, tools and tasks,
flattened ``gen_ai.prompt.N.*`` on LLM spans (old or new usage names), association properties for session
and user."""

import random
from typing import Any

from eval_pipeline.synthetic.content import App
from eval_pipeline.synthetic.conventions.spans import Span, child_span, flat_legacy, hexid, with_root
from eval_pipeline.synthetic.plans import TracePlan, dumps


def encode(p: TracePlan, app: App, v: random.Random) -> list[Span]:
    ctx = {"traceloop.workflow.name": app.agent,
           "traceloop.association.properties.session_id": p.session_id,
           "traceloop.association.properties.user_id": p.user_id}
    new_usage = v.random() < 0.5  # newer OpenLLMetry releases write the current usage names
    spans = []
    for s in p.steps:
        if s.kind == "llm":
            a: dict[str, Any] = {"llm.request.type": "chat", "gen_ai.system": p.provider,
                                 "gen_ai.request.model": p.model_request, "gen_ai.request.max_tokens": 1024,
                                 "llm.is_streaming": v.random() < 0.3}
            flat_legacy("gen_ai.prompt", s.messages, a)
            if s.output:
                flat_legacy("gen_ai.completion", [s.output], a)
                inp, out = ("input_tokens", "output_tokens") if new_usage else ("prompt_tokens", "completion_tokens")
                a |= {"gen_ai.response.model": p.model, "gen_ai.response.id": f"msg_01{hexid(v, 22)}",
                      f"gen_ai.usage.{inp}": s.input_tokens, f"gen_ai.usage.{out}": s.output_tokens,
                      "llm.usage.total_tokens": (s.input_tokens or 0) + (s.output_tokens or 0)}
                if s.cached_tokens:
                    a["gen_ai.usage.cache_read_input_tokens"] = s.cached_tokens
            spans.append(child_span(p, app, s, "anthropic.chat", 3, a | ctx, app.scope_llm, ok=True))
        elif s.kind == "tool":
            a = {"traceloop.span.kind": "tool", "traceloop.entity.name": s.tool,
                 "traceloop.entity.input": dumps({"args": [], "kwargs": s.arguments})}
            if not s.error_type:
                a["traceloop.entity.output"] = dumps(s.result)
            spans.append(child_span(p, app, s, f"{s.tool}.tool", 1, a | ctx, app.scope_agent, ok=True))
        else:
            a = {"traceloop.span.kind": "task", "traceloop.entity.name": "retrieve_context",
                 "traceloop.entity.input": dumps({"args": [s.query], "kwargs": {"k": len(s.documents or ())}}),
                 "traceloop.entity.output": dumps([d["content"] for d in s.documents or ()])}
            spans.append(child_span(p, app, s, "retrieve_context.task", 1, a | ctx, app.scope_agent, ok=True))
    a = {"traceloop.span.kind": "agent", "traceloop.entity.name": app.agent,
         "traceloop.entity.input": dumps({"args": [p.question], "kwargs": {"history": p.history}})}
    if p.answer:
        a["traceloop.entity.output"] = dumps(p.answer)
    return with_root(spans, p, app, f"{app.agent}.agent", a, ctx, ok=True)
