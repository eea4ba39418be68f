"""OpenInference (Arize Phoenix): ``openinference.span.kind``, ``input.value`` / ``output.value``, flattened
``llm.input_messages.N.message.*``, ``llm.token_count.*``, retrieval documents; session and user on every span."""

import random
from typing import Any

from eval_pipeline.synthetic.content import TOOLS, App
from eval_pipeline.synthetic.conventions.spans import Span, child_span, openai_messages, root_messages, with_root
from eval_pipeline.synthetic.plans import TracePlan, dumps


def _flat_oi(prefix: str, msgs: list[dict[str, Any]], a: dict[str, Any], contents: bool) -> None:
    for i, m in enumerate(msgs):
        b = f"{prefix}.{i}.message."
        a[b + "role"] = m["role"]
        if m.get("content") is not None:
            if contents and m["role"] == "user":  # the multi-part form some instrumentors write
                a[b + "contents.0.message_content.type"] = "text"
                a[b + "contents.0.message_content.text"] = m["content"]
            else:
                a[b + "content"] = m["content"]
        for k, tc in enumerate(m.get("tool_calls") or ()):
            a[f"{b}tool_calls.{k}.tool_call.id"] = tc["id"]
            a[f"{b}tool_calls.{k}.tool_call.function.name"] = tc["name"]
            a[f"{b}tool_calls.{k}.tool_call.function.arguments"] = dumps(tc["arguments"])
        if m["role"] == "tool":
            a[b + "tool_call_id"] = m["tool_call_id"]
            a[b + "name"] = m["name"]


def encode(p: TracePlan, app: App, v: random.Random) -> list[Span]:
    ctx = {"session.id": p.session_id, "user.id": p.user_id}  # using_session / using_user put them on every span
    spans = []
    contents = v.random() < 0.4
    for s in p.steps:
        if s.kind == "llm":
            a: dict[str, Any] = {"openinference.span.kind": "LLM", "llm.model_name": p.model,
                                 "llm.provider": p.provider, "llm.system": p.provider,
                                 "llm.invocation_parameters": dumps({"model": p.model_request, "temperature": 0.3,
                                                                     "max_tokens": 1024}),
                                 "input.value": dumps({"messages": openai_messages(s.messages)}),
                                 "input.mime_type": "application/json"}
            _flat_oi("llm.input_messages", s.messages, a, contents)
            if s.output:
                _flat_oi("llm.output_messages", [s.output], a, False)
                if s.output.get("content"):
                    a |= {"output.value": s.output["content"], "output.mime_type": "text/plain"}
                else:
                    a |= {"output.value": dumps({"tool_calls": openai_messages([s.output])[0]["tool_calls"]}),
                          "output.mime_type": "application/json"}
                a |= {"llm.token_count.prompt": s.input_tokens, "llm.token_count.completion": s.output_tokens,
                      "llm.token_count.total": (s.input_tokens or 0) + (s.output_tokens or 0)}
                if s.cached_tokens:
                    a["llm.token_count.prompt_details.cache_read"] = s.cached_tokens
            name = "ChatAnthropic" if p.provider == "anthropic" else "ChatOpenAI"
            spans.append(child_span(p, app, s, name, 1, a | ctx, app.scope_llm, ok=True))
        elif s.kind == "tool":
            a = {"openinference.span.kind": "TOOL", "tool.name": s.tool, "tool.description": TOOLS[s.tool][0],
                 "tool.parameters": dumps({"type": "object", "properties": {k: {"type": "string"}
                                                                             for k in s.arguments or {}}}),
                 "tool_call.id": s.call_id, "input.value": dumps(s.arguments), "input.mime_type": "application/json"}
            if not s.error_type:
                a |= {"output.value": dumps(s.result), "output.mime_type": "application/json"}
            spans.append(child_span(p, app, s, s.tool or "", 1, a | ctx, app.scope_agent, ok=True))
        else:
            a = {"openinference.span.kind": "RETRIEVER", "input.value": s.query, "input.mime_type": "text/plain"}
            for i, d in enumerate(s.documents or ()):
                a[f"retrieval.documents.{i}.document.id"] = d["id"]
                a[f"retrieval.documents.{i}.document.content"] = d["content"]
                a[f"retrieval.documents.{i}.document.score"] = d["score"]
                a[f"retrieval.documents.{i}.document.metadata"] = dumps({"title": d["title"]})
            spans.append(child_span(p, app, s, "VectorStoreRetriever", 1, a | ctx, app.scope_agent, ok=True))
    if v.random() < 0.5:
        a = {"input.value": p.question, "input.mime_type": "text/plain"}
    else:
        a = {"input.value": dumps({"messages": root_messages(p)}), "input.mime_type": "application/json"}
    a |= {"openinference.span.kind": "AGENT", "agent.name": app.agent,
          "metadata": dumps({"app_version": app.version, "channel": v.choice(("web", "ios", "android"))}),
          "tag.tags": ["production", "support"]}
    if p.answer:
        a |= {"output.value": p.answer, "output.mime_type": "text/plain"}
    return with_root(spans, p, app, app.agent, a, ctx, ok=True)
