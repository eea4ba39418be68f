"""OpenTelemetry GenAI semantic conventions, current: ``gen_ai.provider.name``, structured
``gen_ai.input.messages`` / ``gen_ai.output.messages`` (parts), ``execute_tool`` and ``retrieval`` spans."""

import hashlib
import random
from typing import Any

from eval_pipeline.synthetic.content import TOOLS, App
from eval_pipeline.synthetic.conventions.spans import Span, child_span, finish_reason, hexid, root_messages, with_root
from eval_pipeline.synthetic.plans import TracePlan, dumps


def _genai_messages(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for m in msgs:
        if m["role"] == "system":
            continue
        if m["role"] == "tool":
            parts = [{"type": "tool_call_response", "id": m["tool_call_id"], "response": m["content"]}]
        elif m.get("tool_calls"):
            parts = [{"type": "tool_call", "id": tc["id"], "name": tc["name"], "arguments": tc["arguments"]}
                     for tc in m["tool_calls"]]
        else:
            parts = [{"type": "text", "content": m["content"]}]
        msg = {"role": m["role"], "parts": parts}
        if "finish_reason" in m:
            msg["finish_reason"] = "tool_call" if m["finish_reason"] == "tool_calls" else m["finish_reason"]
        out.append(msg)
    return out


def encode(p: TracePlan, app: App, v: random.Random) -> list[Span]:
    spans = []
    for s in p.steps:
        if s.kind == "llm":
            a: dict[str, Any] = {
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": p.provider,
                "gen_ai.request.model": p.model_request, "gen_ai.request.temperature": 0.2,
                "gen_ai.request.max_tokens": 1024, "gen_ai.conversation.id": p.session_id,
                "server.address": "api.openai.com", "server.port": 443,
                "gen_ai.system_instructions": dumps([{"type": "text", "content": s.messages[0]["content"]}]),
                "gen_ai.input.messages": dumps(_genai_messages(s.messages)),
            }
            if s.output:
                a |= {"gen_ai.response.model": p.model, "gen_ai.response.id": f"chatcmpl-{hexid(v, 24)}",
                      "gen_ai.response.finish_reasons": [finish_reason(s)], "gen_ai.usage.input_tokens": s.input_tokens,
                      "gen_ai.usage.output_tokens": s.output_tokens,
                      "gen_ai.output.messages": dumps(_genai_messages([s.output]))}
                if s.cached_tokens:
                    a["gen_ai.usage.cache_read.input_tokens"] = s.cached_tokens
            else:
                a["error.type"] = s.error_type
            spans.append(child_span(p, app, s, f"chat {p.model_request}", 3, a, app.scope_llm))
        elif s.kind == "tool":
            a = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": s.tool, "gen_ai.tool.call.id": s.call_id,
                 "gen_ai.tool.type": "function", "gen_ai.tool.description": TOOLS[s.tool][0],
                 "gen_ai.tool.call.arguments": dumps(s.arguments)}
            if s.error_type:
                a["error.type"] = s.error_type
            else:
                a["gen_ai.tool.call.result"] = dumps(s.result)
            spans.append(child_span(p, app, s, f"execute_tool {s.tool}", 1, a, app.scope_agent))
        else:
            a = {"gen_ai.operation.name": "retrieval", "gen_ai.data_source.id": "help-centre",
                 "gen_ai.retrieval.query.text": s.query, "gen_ai.retrieval.top_k": len(s.documents or ()),
                 "gen_ai.retrieval.documents": dumps([{"id": d["id"], "score": d["score"], "content": d["content"]}
                                                      for d in s.documents or ()])}
            spans.append(child_span(p, app, s, "retrieval help-centre", 3, a, app.scope_agent))
    a = {"gen_ai.operation.name": "invoke_agent", "gen_ai.provider.name": p.provider,
         "gen_ai.agent.name": app.agent, "gen_ai.agent.id": "asst_5j66UpCpwteGg4YSxUnt7lPY",
         "gen_ai.request.model": p.model_request, "gen_ai.conversation.id": p.session_id, "user.id": p.user_id,
         "gen_ai.input.messages": dumps(_genai_messages(root_messages(p))),
         "app.request.sha256": hashlib.sha256(p.question.encode()).digest()}
    if p.answer:
        a["gen_ai.output.messages"] = dumps(_genai_messages(
            [{"role": "assistant", "content": p.answer, "finish_reason": "stop"}]))
    if v.random() < 0.5:  # some agent frameworks repeat the run's token usage on the agent span
        a["gen_ai.usage.input_tokens"] = p.input_tokens
        a["gen_ai.usage.output_tokens"] = p.output_tokens
    return with_root(spans, p, app, f"invoke_agent {app.agent}", a)
