"""MLflow tracing: ``mlflow.spanType``, ``mlflow.spanInputs`` / ``mlflow.spanOutputs``, every attribute value
JSON-encoded; session and user from the trace metadata on the root span."""

import random

from eval_pipeline.synthetic.content import TOOLS, App
from eval_pipeline.synthetic.conventions.spans import Span, child_span, finish_reason, hexid, openai_messages, with_root
from eval_pipeline.synthetic.plans import TracePlan, dumps


def encode(p: TracePlan, app: App, v: random.Random) -> list[Span]:
    # MLflow JSON-encodes every attribute value, strings included ("\"LLM\"").
    req = dumps(f"tr-{p.trace_id}")
    spans = []
    for s in p.steps:
        base = {"mlflow.traceRequestId": req}
        if s.kind == "llm":
            a = base | {"mlflow.spanType": dumps("CHAT_MODEL"), "mlflow.spanFunctionName": dumps("create"),
                        "mlflow.message.format": dumps("openai"),
                        "mlflow.spanInputs": dumps({"model": p.model_request, "temperature": 0.1,
                                                    "messages": openai_messages(s.messages),
                                                    "tools": [{"type": "function", "function": {"name": t}}
                                                              for t in TOOLS]})}
            if s.output:
                msg = openai_messages([s.output])[0]
                a["mlflow.spanOutputs"] = dumps({
                    "id": f"chatcmpl-{hexid(v, 24)}", "object": "chat.completion", "model": p.model,
                    "choices": [{"index": 0, "message": msg, "finish_reason": finish_reason(s)}],
                    "usage": {"prompt_tokens": s.input_tokens, "completion_tokens": s.output_tokens,
                              "total_tokens": (s.input_tokens or 0) + (s.output_tokens or 0)}})
                a["mlflow.chat.tokenUsage"] = dumps({"input_tokens": s.input_tokens, "output_tokens": s.output_tokens,
                                                     "total_tokens": (s.input_tokens or 0) + (s.output_tokens or 0)})
            spans.append(child_span(p, app, s, "Completions", 1, a, app.scope_llm, ok=True))
        elif s.kind == "tool":
            a = base | {"mlflow.spanType": dumps("TOOL"), "mlflow.spanFunctionName": dumps(s.tool),
                        "mlflow.spanInputs": dumps(s.arguments)}
            if not s.error_type:
                a["mlflow.spanOutputs"] = dumps(s.result)
            spans.append(child_span(p, app, s, s.tool or "", 1, a, app.scope_agent, ok=True))
        else:
            a = base | {"mlflow.spanType": dumps("RETRIEVER"), "mlflow.spanFunctionName": dumps("retrieve"),
                        "mlflow.spanInputs": dumps({"query": s.query}),
                        "mlflow.spanOutputs": dumps([{"page_content": d["content"], "id": d["id"],
                                                      "metadata": {"doc_uri": f"kb://{d['id']}", "score": d["score"]}}
                                                     for d in s.documents or ()])}
            spans.append(child_span(p, app, s, "retrieve_docs", 1, a, app.scope_agent, ok=True))
    a = {"mlflow.traceRequestId": req, "mlflow.spanType": dumps("AGENT"), "mlflow.spanFunctionName": dumps("predict"),
         "mlflow.spanInputs": dumps({"question": p.question, "history": p.history}),
         # Trace metadata, which MLflow keeps as plain strings, copied onto the root span by the exporter.
         "mlflow.trace.session": p.session_id, "mlflow.trace.user": p.user_id}
    if p.answer:
        a["mlflow.spanOutputs"] = dumps(p.answer)
    return with_root(spans, p, app, app.agent, a, ok=True)
