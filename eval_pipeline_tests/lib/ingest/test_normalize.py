"""Contract: the same LLM call, tool call or retrieval written in any supported semantic convention
normalises to the same canonical span row (trace-formats.md section 6.2)."""

import datetime as dt

import orjson
import pytest

from eval_pipeline.lib.ingest import normalize, readers
from eval_pipeline_tests.support import otlp_builders as b

QUESTION = "What is the status of my order?"
ANSWER = "Your order ships tomorrow."
SYSTEM = "You are a helpful support agent."
MSGS_IN = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
T0 = dt.datetime(2026, 11, 20, 12, 0, 0)


def _row(attributes: dict, events: list | None = None, name: str = "call") -> dict:
    s = b.span(b.new_trace_id(), b.new_span_id(), name, T0, attributes=attributes, events=events)
    read = readers.read_bytes(b.dumps(b.request([s])))
    assert not read.problems
    return dict(zip(normalize.COLUMNS, normalize.normalize_span(read.spans[0]), strict=True))


LLM_FORMS = {
    "otel_genai": ({
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.input.messages": orjson.dumps([
            {"role": "system", "parts": [{"type": "text", "content": SYSTEM}]},
            {"role": "user", "parts": [{"type": "text", "content": QUESTION}]}]).decode(),
        "gen_ai.output.messages": orjson.dumps([
            {"role": "assistant", "parts": [{"type": "text", "content": ANSWER}], "finish_reason": "stop"}]).decode(),
        "gen_ai.usage.input_tokens": 42, "gen_ai.usage.output_tokens": 7,
    }, None),
    "otel_genai_legacy_indexed": ({
        "llm.request.type": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.prompt.0.role": "system", "gen_ai.prompt.0.content": SYSTEM,
        "gen_ai.prompt.1.role": "user", "gen_ai.prompt.1.content": QUESTION,
        "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": ANSWER,
        "gen_ai.usage.prompt_tokens": 42, "gen_ai.usage.completion_tokens": 7,
    }, None),
    "otel_genai_legacy_single": ({
        "gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.response.model": "gpt-4o-mini",
        "gen_ai.prompt": orjson.dumps(MSGS_IN).decode(),
        "gen_ai.completion": orjson.dumps([{"role": "assistant", "content": ANSWER}]).decode(),
        "gen_ai.usage.input_tokens": "42", "gen_ai.usage.output_tokens": "7",
    }, None),
    "otel_genai_legacy_events": ({
        "gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 42, "gen_ai.usage.output_tokens": 7,
    }, [
        {"name": "gen_ai.system.message", "attributes": {"content": SYSTEM}},
        {"name": "gen_ai.user.message", "attributes": {"content": QUESTION}},
        {"name": "gen_ai.choice", "attributes": {"index": 0, "finish_reason": "stop",
                                                 "message": {"role": "assistant", "content": ANSWER}}},
    ]),
    "openinference": ({
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.provider": "openai",
        "llm.input_messages.0.message.role": "system", "llm.input_messages.0.message.content": SYSTEM,
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.contents.0.message_content.type": "text",
        "llm.input_messages.1.message.contents.0.message_content.text": QUESTION,
        "llm.output_messages.0.message.role": "assistant", "llm.output_messages.0.message.content": ANSWER,
        "input.value": orjson.dumps({"messages": MSGS_IN}).decode(), "input.mime_type": "application/json",
        "output.value": ANSWER, "llm.token_count.prompt": 42, "llm.token_count.completion": 7,
        "llm.token_count.total": 49,
    }, None),
    "mlflow": ({
        "mlflow.spanType": '"CHAT_MODEL"',
        "mlflow.spanInputs": orjson.dumps({"messages": MSGS_IN, "model": "gpt-4o-mini"}).decode(),
        "mlflow.spanOutputs": orjson.dumps(
            {"choices": [{"message": {"role": "assistant", "content": ANSWER}}], "model": "gpt-4o-mini"}).decode(),
        "mlflow.chat.tokenUsage": orjson.dumps({"input_tokens": 42, "output_tokens": 7, "total_tokens": 49}).decode(),
    }, None),
    "vercel_ai": ({
        "ai.operationId": "ai.generateText.doGenerate", "ai.model.id": "gpt-4o-mini", "ai.model.provider": "openai",
        "ai.prompt.messages": orjson.dumps([
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": [{"type": "text", "text": QUESTION}]}]).decode(),
        "ai.response.text": ANSWER, "ai.usage.promptTokens": 42, "ai.usage.completionTokens": 7,
    }, None),
}


@pytest.mark.parametrize("form", sorted(LLM_FORMS))
def test_normalize_llm_call_same_canonical_row_in_every_convention(form: str) -> None:
    attributes, events = LLM_FORMS[form]
    row = _row(attributes, events)
    assert row["span_type"] == "llm"
    assert row["model"] == "gpt-4o-mini"
    assert (row["input_tokens"], row["output_tokens"]) == (42, 7)
    assert row["input_text"] == QUESTION
    assert row["output_text"] == ANSWER


def test_normalize_conventions_recognised_per_form() -> None:
    expect = {
        "otel_genai": ["otel_genai"], "otel_genai_legacy_indexed": ["otel_genai", "otel_genai_legacy", "traceloop"],
        "otel_genai_legacy_events": ["otel_genai", "otel_genai_legacy"], "openinference": ["openinference"],
        "mlflow": ["mlflow"], "vercel_ai": ["vercel_ai"],
    }
    for form, conventions in expect.items():
        attributes, events = LLM_FORMS[form]
        assert _row(attributes, events)["conventions"] == conventions, form


ARGS = {"order_id": "A-17", "verbose": True}
RESULT = {"status": "shipped", "eta_days": 1}
TOOL_FORMS = {
    "otel_genai": ({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search_orders",
                    "gen_ai.tool.call.id": "call_1", "gen_ai.tool.call.arguments": orjson.dumps(ARGS).decode(),
                    "gen_ai.tool.call.result": orjson.dumps(RESULT).decode()}, "execute_tool search_orders"),
    "openinference": ({"openinference.span.kind": "TOOL", "tool.name": "search_orders", "tool.id": "call_1",
                       "input.value": orjson.dumps(ARGS).decode(), "output.value": orjson.dumps(RESULT).decode()},
                      "search_orders"),
    "mlflow": ({"mlflow.spanType": '"TOOL"', "mlflow.spanInputs": orjson.dumps(ARGS).decode(),
                "mlflow.spanOutputs": orjson.dumps(RESULT).decode()}, "search_orders"),
    "vercel_ai": ({"ai.operationId": "ai.toolCall", "ai.toolCall.name": "search_orders", "ai.toolCall.id": "call_1",
                   "ai.toolCall.args": orjson.dumps(ARGS).decode(), "ai.toolCall.result": orjson.dumps(RESULT).decode()},
                  "ai.toolCall"),
    "traceloop": ({"traceloop.span.kind": "tool", "traceloop.entity.name": "search_orders",
                   "traceloop.entity.input": orjson.dumps(ARGS).decode(),
                   "traceloop.entity.output": orjson.dumps(RESULT).decode()}, "search_orders.tool"),
    # Koog: the tool's name and call id, its input and output, and no gen_ai.operation.name
    "koog": ({"gen_ai.tool.name": "search_orders", "gen_ai.tool.call.id": "call_1",
              "input.value": orjson.dumps(ARGS).decode(), "output.value": orjson.dumps(RESULT).decode()}, "tool.call"),
}


@pytest.mark.parametrize("form", sorted(TOOL_FORMS))
def test_normalize_tool_call_same_canonical_row_in_every_convention(form: str) -> None:
    attributes, name = TOOL_FORMS[form]
    row = _row(attributes, name=name)
    assert row["span_type"] == "tool"
    assert row["tool_name"] == "search_orders"
    assert orjson.loads(row["tool_arguments"]) == ARGS
    assert orjson.loads(row["tool_result"]) == RESULT


@pytest.mark.parametrize(("attributes", "span_type"), [
    ({"gen_ai.tool.name": "search_orders"}, "other"),  # a name alone is no call
    ({"gen_ai.operation.name": "chat", "gen_ai.tool.name": "search_orders", "gen_ai.tool.call.id": "call_1"},
     "llm"),  # the operation says what the span is
    ({"openinference.span.kind": "AGENT", "gen_ai.tool.name": "x", "gen_ai.tool.call.id": "c"}, "agent"),
])
def test_normalize_tool_name_and_call_id_make_a_tool_only_when_nothing_else_says(attributes: dict,
                                                                                  span_type: str) -> None:
    assert _row(attributes, name="step")["span_type"] == span_type


DOCS = ["Refunds take 5 days.", "Orders ship from Berlin."]
RETRIEVER_FORMS = {
    "openinference": {"openinference.span.kind": "RETRIEVER", "input.value": "refund policy",
                      "retrieval.documents.0.document.content": DOCS[0], "retrieval.documents.0.document.id": "d1",
                      "retrieval.documents.1.document.content": DOCS[1]},
    "otel_genai": {"gen_ai.operation.name": "retrieval", "gen_ai.retrieval.query.text": "refund policy",
                   "gen_ai.retrieval.documents": orjson.dumps([{"id": "d1", "content": DOCS[0]},
                                                               {"id": "d2", "content": DOCS[1]}]).decode()},
    "mlflow": {"mlflow.spanType": '"RETRIEVER"', "mlflow.spanInputs": '{"query": "refund policy"}',
               "mlflow.spanOutputs": orjson.dumps([{"page_content": d, "metadata": {}} for d in DOCS]).decode()},
}


@pytest.mark.parametrize("form", sorted(RETRIEVER_FORMS))
def test_normalize_retrieval_documents_in_every_convention(form: str) -> None:
    row = _row(RETRIEVER_FORMS[form])
    assert row["span_type"] == "retriever"
    assert row["retrieved_documents"] == DOCS


def test_normalize_mixed_conventions_ranked_not_first_key() -> None:
    # An ADK-style span carries gen_ai.* and llm.* at once; the current GenAI messages outrank
    # OpenInference's generic input.value, whatever the key order.
    row = _row({
        "input.value": '{"note": "framework wrapper"}',
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "gemini-2.0",
        "gen_ai.input.messages": orjson.dumps([{"role": "user", "parts": [{"type": "text", "content": QUESTION}]}]).decode(),
        "llm.model_name": "ignored-because-ranked-lower",
    })
    assert row["input_text"] == QUESTION
    assert row["model"] == "gemini-2.0"
    assert row["conventions"] == ["openinference", "otel_genai"]


def test_normalize_agent_span_usage_not_taken_as_llm_tokens() -> None:
    row = _row({"gen_ai.operation.name": "invoke_agent", "gen_ai.usage.input_tokens": 500})
    assert row["span_type"] == "agent"
    assert row["input_tokens"] is None


def test_normalize_session_user_provider_and_errors() -> None:
    s = b.span(b.new_trace_id(), b.new_span_id(), "invoke_agent support", T0, status=2, message="tool failed",
               attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.conversation.id": "sess-9",
                           "enduser.id": "u-1", "gen_ai.system": "vertex_ai", "error.type": "TimeoutError"},
               events=[{"name": "exception", "attributes": {"exception.type": "ValueError",
                                                            "exception.message": "bad input"}}])
    read = readers.read_bytes(b.dumps(b.request([s])))
    row = dict(zip(normalize.COLUMNS, normalize.normalize_span(read.spans[0]), strict=True))
    assert (row["session_id"], row["user_id"], row["provider"]) == ("sess-9", "u-1", "gcp.vertex_ai")
    assert (row["status"], row["error_type"], row["error_message"]) == ("error", "TimeoutError", "tool failed")


def test_normalize_content_absent_keeps_span_with_null_text() -> None:
    row = _row({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 3})
    assert row["input_text"] is None and row["output_text"] is None
    assert row["input_tokens"] == 3


def test_normalize_text_of_unwraps_double_encoded_json() -> None:
    double = orjson.dumps(orjson.dumps({"query": QUESTION}).decode()).decode()
    assert normalize.text_of(double, "user") == QUESTION
    assert normalize.text_of("plain text", "user") == "plain text"
    assert normalize.text_of({"unknown_key": 1, "other": 2}, "user") == '{"other":2,"unknown_key":1}'
