"""Vercel AI SDK (``ai.*``): ``ai.generateText`` with ``doGenerate`` and ``ai.toolCall`` children, the SDK's own
message shapes, ``ai.usage.*`` beside ``gen_ai.usage.*``, telemetry metadata for session and user."""

import datetime
import random
from typing import Any

import orjson

from eval_pipeline.synthetic.content import SYSTEM_PROMPT, TOOLS, App
from eval_pipeline.synthetic.conventions.spans import Span, child_span, finish_reason, hexid, root_messages, with_root
from eval_pipeline.synthetic.plans import MS, NS, TracePlan, dumps


def _vercel_messages(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for m in msgs:
        if m["role"] == "system":
            out.append({"role": "system", "content": m["content"]})
        elif m.get("tool_calls"):
            out.append({"role": "assistant", "content": [
                {"type": "tool-call", "toolCallId": tc["id"], "toolName": tc["name"], "args": tc["arguments"]}
                for tc in m["tool_calls"]]})
        elif m["role"] == "tool":
            out.append({"role": "tool", "content": [{"type": "tool-result", "toolCallId": m["tool_call_id"],
                                                     "toolName": m["name"], "result": _decode_or_text(m["content"])}]})
        else:
            out.append({"role": m["role"], "content": [{"type": "text", "text": m["content"]}]})
    return out


def _decode_or_text(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _iso(ns: int) -> str:
    dt = datetime.datetime.fromtimestamp(ns // NS, tz=datetime.UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ns % NS // MS:03d}Z"


def encode(p: TracePlan, app: App, v: random.Random) -> list[Span]:
    ctx = {"ai.telemetry.functionId": app.service, "ai.telemetry.metadata.sessionId": p.session_id,
           "ai.telemetry.metadata.userId": p.user_id, "ai.model.id": p.model_request, "ai.model.provider": p.provider}
    spans = []
    for s in p.steps:
        if s.kind == "llm":
            a: dict[str, Any] = {
                "ai.operationId": "ai.generateText.doGenerate",
                "operation.name": f"ai.generateText.doGenerate {app.service}",
                "ai.prompt.format": "messages", "ai.prompt.messages": dumps(_vercel_messages(s.messages)),
                "ai.prompt.tools": [dumps({"type": "function", "name": t, "description": d[0]})
                                    for t, d in TOOLS.items()],
                "ai.prompt.toolChoice": dumps({"type": "auto"}), "ai.settings.maxRetries": 2,
                "gen_ai.system": p.provider, "gen_ai.request.model": p.model_request,
            }
            if s.output:
                if s.output.get("content"):
                    a["ai.response.text"] = s.output["content"]
                else:
                    a["ai.response.toolCalls"] = dumps([{"toolCallType": "function", "toolCallId": tc["id"],
                                                         "toolName": tc["name"], "args": dumps(tc["arguments"])}
                                                        for tc in s.output["tool_calls"]])
                finish = "tool-calls" if finish_reason(s) == "tool_calls" else finish_reason(s)
                a |= {"ai.response.finishReason": finish, "ai.response.id": f"resp-{hexid(v, 16)}",
                      "ai.response.model": p.model, "ai.response.timestamp": _iso(s.start_ns),
                      "ai.usage.promptTokens": s.input_tokens, "ai.usage.completionTokens": s.output_tokens,
                      "gen_ai.response.model": p.model, "gen_ai.response.finish_reasons": [finish],
                      "gen_ai.usage.input_tokens": s.input_tokens, "gen_ai.usage.output_tokens": s.output_tokens}
            spans.append(child_span(p, app, s, "ai.generateText.doGenerate", 3, a | ctx, app.scope_llm))
        elif s.kind == "tool":
            a = {"ai.operationId": "ai.toolCall", "operation.name": f"ai.toolCall {app.service}",
                 "ai.toolCall.name": s.tool, "ai.toolCall.id": s.call_id, "ai.toolCall.args": dumps(s.arguments)}
            if not s.error_type:
                a["ai.toolCall.result"] = dumps(s.result)
            spans.append(child_span(p, app, s, "ai.toolCall", 1, a | ctx, app.scope_agent))
        else:
            # The AI SDK has no retrieval span; the app wraps its vector search in its own span.
            a = {"app.retrieval.query": s.query, "app.retrieval.document_ids": [d["id"] for d in s.documents or ()]}
            spans.append(child_span(p, app, s, "retrieveContext", 1, a, ("web-chat", app.version)))
    a = {"ai.operationId": "ai.generateText", "operation.name": f"ai.generateText {app.service}",
         "ai.prompt": dumps({"system": SYSTEM_PROMPT, "messages": root_messages(p)}),
         "ai.settings.maxSteps": 6, "ai.settings.maxRetries": 2,
         "ai.usage.promptTokens": p.input_tokens, "ai.usage.completionTokens": p.output_tokens}
    if p.answer:
        a |= {"ai.response.text": p.answer, "ai.response.finishReason": "stop"}
    return with_root(spans, p, app, "ai.generateText", a, ctx)
