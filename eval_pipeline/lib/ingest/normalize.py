"""Normalise the semantic conventions real producers write into one canonical span row.

Several conventions may sit on one span (an ADK span carries ``gen_ai.*`` and ``llm.*``), so every
canonical field is taken from a ranked list of sources, first non-empty wins, rather than branching on
the first key found. Supported: OpenTelemetry GenAI (current and deprecated forms, per-message events),
OpenInference, MLflow, OpenLLMetry/Traceloop and the Vercel AI SDK. The mapping follows
``shared/docs/trace-formats.md`` section 6.2.

The conventions are data at the top of this module: ``SOURCES`` (where each field is read from, ranked),
``_CONVENTION_PREFIXES`` (which keys name a convention in ``conventions``), ``_GENAI_OPERATION``,
``_CATEGORY`` and ``_NAME_PREFIX`` (the span's type). Only shapes that are not one key (flattened
``llm.input_messages.N.*``, indexed ``gen_ai.prompt.N.*``, per-message events) are code, in ``normalize_span``.
"""

from typing import Any

import orjson

from eval_pipeline.lib.ingest.records import Problem, RawSpan, describe
from eval_pipeline.lib.ingest.text import compact as _compact
from eval_pipeline.lib.ingest.text import content_text as _content_text
from eval_pipeline.lib.ingest.text import decode as _decode
from eval_pipeline.lib.ingest.text import messages as _messages
from eval_pipeline.lib.ingest.text import text_of

SPAN_TYPES = ("agent", "llm", "tool", "retriever", "embedding", "chain", "other")

_GENAI_OPERATION = {
    "chat": "llm", "text_completion": "llm", "generate_content": "llm", "embeddings": "embedding",
    "execute_tool": "tool", "invoke_agent": "agent", "create_agent": "agent", "invoke_workflow": "chain",
    "retrieval": "retriever",
}
_CATEGORY = {
    "llm": "llm", "chat_model": "llm", "chat": "llm", "generation": "llm", "completion": "llm",
    "embedding": "embedding", "chain": "chain", "workflow": "chain", "task": "chain", "prompt": "chain",
    "retriever": "retriever", "reranker": "retriever", "tool": "tool", "agent": "agent",
}
_NAME_PREFIX = (
    ("invoke_agent", "agent"), ("create_agent", "agent"), ("execute_tool", "tool"), ("chat ", "llm"),
    ("text_completion", "llm"), ("generate_content", "llm"), ("embeddings", "embedding"),
    ("retrieval", "retriever"), ("invoke_workflow", "chain"), ("agent run", "agent"), ("running tool", "tool"),
)
_INT64 = 1 << 63
# Keys that, together, make a span a tool call when nothing else says what the span is.
_TOOL_CALL_KEYS = frozenset({"gen_ai.tool.name", "gen_ai.tool.call.id"})
_PROVIDER_ALIASES = {"vertex_ai": "gcp.vertex_ai", "gemini": "gcp.gemini", "az.ai.openai": "azure.ai.openai"}

# Where each canonical field is read from: attribute keys, ranked, first non-empty wins. A convention that
# writes a field under another key adds it here, in the place its rank deserves.
SOURCES: dict[str, tuple[str, ...]] = {
    # the span's category, mapped through _CATEGORY (after gen_ai.operation.name)
    "span_kind": ("openinference.span.kind", "mlflow.spanType", "traceloop.span.kind", "langfuse.observation.type"),
    # what went in, any shape (text_of reads it)
    "input": ("input.value", "mlflow.spanInputs", "traceloop.entity.input", "ai.prompt.messages", "ai.prompt",
        "gen_ai.prompt", "langfuse.observation.input", "input"),
    # what came out, any shape
    "output": ("output.value", "mlflow.spanOutputs", "traceloop.entity.output", "ai.response.text",
        "ai.response.object", "gen_ai.completion", "langfuse.observation.output", "output"),
    # LLM and embedding spans only
    "model": ("gen_ai.response.model", "gen_ai.request.model", "llm.response.model_name", "llm.model_name",
        "llm.request.model_name", "embedding.model_name", "mlflow.llm.model", "ai.response.model", "ai.model.id"),
    # aliases in _PROVIDER_ALIASES
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system", "mlflow.llm.provider",
        "ai.model.provider"),
    # LLM and embedding spans only (else mlflow.chat.tokenUsage)
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt",
        "ai.usage.inputTokens", "ai.usage.promptTokens"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion",
        "ai.usage.outputTokens", "ai.usage.completionTokens"),
    # tool spans only (else the span name)
    "tool_name": ("gen_ai.tool.name", "tool.name", "ai.toolCall.name", "traceloop.entity.name"),
    "tool_call_id": ("gen_ai.tool.call.id", "tool.id", "tool_call.id", "ai.toolCall.id"),
    # tool spans (else the input)
    "tool_arguments": ("gen_ai.tool.call.arguments", "ai.toolCall.args", "tool_arguments"),
    # tool spans (else the output)
    "tool_result": ("gen_ai.tool.call.result", "ai.toolCall.result", "tool_response"),
    # a list of documents (OpenInference's flattened retrieval.documents.N first)
    "documents": ("gen_ai.retrieval.documents", "retrieval.documents"),
    "session_id": ("gen_ai.conversation.id", "session.id", "traceloop.association.properties.session_id",
        "ai.telemetry.metadata.sessionId", "mlflow.trace.session", "langfuse.session.id"),
    "user_id": ("user.id", "enduser.id", "traceloop.association.properties.user_id",
        "ai.telemetry.metadata.userId", "mlflow.trace.user", "langfuse.user.id"),
}

# Keys whose presence says which convention wrote the span.
_CONVENTION_PREFIXES = (
    ("gen_ai.", "otel_genai"), ("openinference.", "openinference"), ("input.value", "openinference"),
    ("output.value", "openinference"), ("llm.input_messages.", "openinference"),
    ("llm.output_messages.", "openinference"), ("llm.model_name", "openinference"),
    ("llm.token_count.", "openinference"), ("llm.invocation_parameters", "openinference"),
    ("llm.provider", "openinference"), ("retrieval.documents", "openinference"), ("tool.name", "openinference"),
    ("mlflow.", "mlflow"), ("traceloop.", "traceloop"), ("llm.request.type", "traceloop"),
    ("llm.usage.", "traceloop"), ("ai.", "vercel_ai"),
)
_LEGACY_GENAI = ("gen_ai.prompt", "gen_ai.completion", "gen_ai.usage.prompt_tokens", "gen_ai.system")
_INDEXED = ("llm.input_messages.", "llm.output_messages.", "gen_ai.prompt.", "gen_ai.completion.",
            "retrieval.documents.")
_MESSAGE_EVENTS = {"gen_ai.system.message": "system", "gen_ai.user.message": "user",
                   "gen_ai.assistant.message": "assistant", "gen_ai.tool.message": "tool",
                   "gen_ai.choice": "assistant"}

# Columns of a canonical span row, in order (the Parquet cache of files.py, then the spans table).
# attributes, events and resource are UTF-8 JSON bytes (Arrow takes bytes without re-encoding).
COLUMNS = (
    "trace_id", "span_id", "parent_span_id", "name", "kind", "span_type", "start_ns", "end_ns",
    "status", "error_type", "error_message", "service_name", "model", "provider",
    "input_tokens", "output_tokens", "input_text", "output_text", "tool_name", "tool_call_id",
    "tool_arguments", "tool_result", "retrieved_documents", "session_id", "user_id", "conventions",
    "attributes", "events", "resource", "scope_name",
)


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        v = attrs.get(k)
        if v is not None and v != "" and v != []:
            return v
    return None


def _unflatten(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """``prefix.{i}.rest = v`` keys as a list of ``{rest: v}`` dicts, ordered by i."""
    groups: dict[int, dict[str, Any]] = {}
    n = len(prefix)
    for k, v in attrs.items():
        if k.startswith(prefix):
            idx, _, rest = k[n:].partition(".")
            if idx.isdigit():
                groups.setdefault(int(idx), {})[rest] = v
    return [groups[i] for i in sorted(groups)]


def _oi_messages(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    out = []
    for m in _unflatten(attrs, prefix):
        content = m.get("message.content")
        if content is None:
            parts = sorted((k, v) for k, v in m.items()
                           if k.startswith("message.contents.") and k.endswith(".message_content.text"))
            content = "\n".join(str(v) for _, v in parts) if parts else None
        out.append({"role": m.get("message.role"), "content": content})
    return out


def _legacy_messages(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [{"role": m.get("role", "assistant" if "completion" in prefix else "user"), "content": m.get("content")}
            for m in _unflatten(attrs, prefix)]


def _event_messages(events: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    ins, outs = [], []
    for e in events:
        role = _MESSAGE_EVENTS.get(e.get("name"))
        if role is None:
            continue
        a = e.get("attributes") or {}
        if e["name"] == "gen_ai.choice":
            msg = _decode(a.get("message"))
            content = msg.get("content") if isinstance(msg, dict) else msg
            outs.append({"role": "assistant", "content": content})
        else:
            ins.append({"role": role, "content": a.get("content")})
    return ins, outs


def _int_or_none(v: Any) -> int | None:
    """A count as a 64-bit integer, or None when it is not one."""
    if v is None or isinstance(v, bool):
        return None
    try:
        out = int(v)
    except (TypeError, ValueError, OverflowError):
        return None
    return out if -_INT64 <= out < _INT64 else None


def _span_type(attrs: dict[str, Any], name: str) -> str:
    op = attrs.get("gen_ai.operation.name")
    if op in _GENAI_OPERATION:
        return _GENAI_OPERATION[op]
    for key in SOURCES["span_kind"]:
        v = attrs.get(key)
        if isinstance(v, str):
            v = _decode(v)
            if isinstance(v, str):
                cat = _CATEGORY.get(v.lower())
                if cat:
                    return cat
                if key == "mlflow.spanType":
                    return "other"
    if attrs.get("llm.request.type"):
        return "llm"
    if _TOOL_CALL_KEYS <= attrs.keys():
        # A tool call that names itself but not its operation (Koog writes its tool spans so).
        return "tool"
    op_id = attrs.get("ai.operationId")
    if isinstance(op_id, str):
        if op_id.endswith((".doGenerate", ".doStream")):
            return "llm"
        if op_id == "ai.toolCall":
            return "tool"
        if op_id.endswith(".doEmbed"):
            return "embedding"
        # ai.generateText / ai.streamText / ai.generateObject: the SDK's multi-step agent loop
        return "agent"
    for prefix, cat in _NAME_PREFIX:
        if name.startswith(prefix):
            return cat
    return "other"


def _documents(attrs: dict[str, Any], span_type: str, outputs: Any) -> list[str] | None:
    if "retrieval.documents.0.document.content" in attrs:
        docs = [str(d["document.content"]) for d in _unflatten(attrs, "retrieval.documents.")
                if d.get("document.content") is not None]
        if docs:
            return docs
    for key in SOURCES["documents"]:
        v = _decode(attrs.get(key))
        if isinstance(v, list):
            docs = [_content_text(d) if isinstance(d, dict) else str(d) for d in v]
            return [d for d in docs if d]
    if span_type == "retriever":
        v = _decode(outputs)
        if isinstance(v, dict):
            v = v.get("documents", v.get("results"))
        if isinstance(v, list):
            out = []
            for d in v:
                if isinstance(d, dict):
                    d = d.get("page_content", d.get("content", d.get("text")))
                if d is not None:
                    out.append(d if isinstance(d, str) else _compact(d))
            return out or None
    return None


_KEY_CONVENTIONS: dict[str, tuple[str | None, bool]] = {}


def _key_convention(k: str) -> tuple[str | None, bool]:
    """(convention, is legacy GenAI) of an attribute key; keys repeat across spans, so cached."""
    hit = _KEY_CONVENTIONS.get(k)
    if hit is None:
        conv = next((c for prefix, c in _CONVENTION_PREFIXES if k.startswith(prefix)), None)
        hit = (conv, k.startswith(_LEGACY_GENAI))
        if len(_KEY_CONVENTIONS) < 100_000:
            _KEY_CONVENTIONS[k] = hit
    return hit


def conventions_of(attrs: dict[str, Any], events: list[dict[str, Any]]) -> list[str]:
    seen = set()
    legacy = False
    cached = _KEY_CONVENTIONS.get
    for k in attrs:
        conv, is_legacy = cached(k) or _key_convention(k)
        if conv:
            seen.add(conv)
        legacy = legacy or is_legacy
    if legacy or any(e.get("name") in _MESSAGE_EVENTS for e in events):
        seen.add("otel_genai_legacy")
    return sorted(seen)


def normalize_span(s: RawSpan) -> tuple:
    """The canonical row (see COLUMNS) for one span."""
    a = s.attributes
    span_type = _span_type(a, s.name)
    conventions = conventions_of(a, s.events)

    # Messages, ranked: current GenAI, OpenInference flattened, legacy GenAI, message events.
    in_msgs = _messages(a.get("gen_ai.input.messages"))
    out_msgs = _messages(a.get("gen_ai.output.messages"))
    if in_msgs is None and "llm.input_messages.0.message.role" in a:
        in_msgs = _oi_messages(a, "llm.input_messages.")
    if out_msgs is None and "llm.output_messages.0.message.role" in a:
        out_msgs = _oi_messages(a, "llm.output_messages.")
    if in_msgs is None:
        in_msgs = _messages(a.get("gen_ai.prompt"))
        if in_msgs is None and ("gen_ai.prompt.0.content" in a or "gen_ai.prompt.0.role" in a):
            in_msgs = _legacy_messages(a, "gen_ai.prompt.")
    if out_msgs is None:
        out_msgs = _messages(a.get("gen_ai.completion"))
        if out_msgs is None and ("gen_ai.completion.0.content" in a or "gen_ai.completion.0.role" in a):
            out_msgs = _legacy_messages(a, "gen_ai.completion.")
    if (in_msgs is None or out_msgs is None) and s.events:
        ev_in, ev_out = _event_messages(s.events)
        in_msgs = in_msgs or ev_in or None
        out_msgs = out_msgs or ev_out or None

    inputs = _first(a, SOURCES["input"])
    outputs = _first(a, SOURCES["output"])

    tool_name = tool_args = tool_result = tool_call_id = None
    if span_type == "tool":
        tool_name = _first(a, SOURCES["tool_name"])
        if tool_name is None:
            tool_name = s.name.removeprefix("execute_tool ").removeprefix("running tool: ").strip() or None
        tool_call_id = _first(a, SOURCES["tool_call_id"])
        if isinstance(tool_call_id, list):
            tool_call_id = tool_call_id[0] if tool_call_id else None
        args = _first(a, SOURCES["tool_arguments"])
        result = _first(a, SOURCES["tool_result"])
        tool_args = _compact(args if args is not None else inputs)
        tool_result = _compact(result if result is not None else outputs)

    input_text = text_of(in_msgs, "user") if in_msgs else None
    if input_text is None and span_type != "tool":
        input_text = text_of(inputs, "user")
    output_text = text_of(out_msgs, "assistant") if out_msgs else None
    if output_text is None and span_type != "tool":
        output_text = text_of(outputs, "assistant")
    if span_type == "tool":
        input_text, output_text = tool_args, tool_result

    if span_type in ("llm", "embedding"):
        input_tokens = _int_or_none(_first(a, SOURCES["input_tokens"]))
        output_tokens = _int_or_none(_first(a, SOURCES["output_tokens"]))
        usage = _decode(a.get("mlflow.chat.tokenUsage"))
        if isinstance(usage, dict):
            input_tokens = input_tokens if input_tokens is not None else _int_or_none(usage.get("input_tokens"))
            output_tokens = output_tokens if output_tokens is not None else _int_or_none(usage.get("output_tokens"))
        model = _first(a, SOURCES["model"])
        if model is None:
            for v in (inputs, outputs):
                v = _decode(v)
                if isinstance(v, dict) and isinstance(v.get("model"), str):
                    model = v["model"]
                    break
    else:
        input_tokens = output_tokens = model = None
    provider = _first(a, SOURCES["provider"])
    if isinstance(provider, str):
        provider = _PROVIDER_ALIASES.get(provider, provider)

    error_type = a.get("error.type")
    error_message = s.status_message
    for e in s.events:
        if e.get("name") == "exception":
            ea = e.get("attributes") or {}
            error_type = error_type or ea.get("exception.type")
            error_message = error_message or ea.get("exception.message")
            break
    status = "error" if s.status_code == 2 else ("ok" if s.status_code == 1 else "unset")

    session_id = _first(a, SOURCES["session_id"])
    user_id = _first(a, SOURCES["user_id"])

    return (
        s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, span_type, s.start_ns, s.end_ns,
        status, _str(error_type), _str(error_message),
        _str(s.resource.get("service.name")), None if model is None else str(model),
        None if provider is None else str(provider), input_tokens, output_tokens,
        None if input_text is None else str(input_text), None if output_text is None else str(output_text),
        None if tool_name is None else str(tool_name), None if tool_call_id is None else str(tool_call_id),
        tool_args, tool_result, _documents(a, span_type, outputs),
        None if session_id is None else str(session_id), None if user_id is None else str(user_id),
        conventions, orjson.dumps(a), orjson.dumps(s.events) if s.events else b"[]",
        _resource_json(s.resource), s.scope_name,
    )


def _str(v: Any) -> str | None:
    return None if v is None else v if isinstance(v, str) else _compact(v)


def normalize_checked(s: RawSpan) -> tuple[tuple | None, Problem | None]:
    """The canonical row of a span, never an exception: a span whose content cannot be interpreted is kept
    with its ids, times, name, status and raw attributes (and a problem says so); one that cannot even be
    encoded is dropped with a problem."""
    try:
        return normalize_span(s), None
    except Exception as exc:
        reason = describe(exc)
    try:
        row = _bare_row(s)
    except Exception as exc:
        return None, Problem(s.position, f"span {s.span_id} could not be normalised ({reason}) nor stored "
                                         f"({describe(exc)}); dropped")
    return row, Problem(s.position, f"span {s.span_id}: its content could not be interpreted ({reason}); kept "
                                    "with its ids, times, name, status and raw attributes only")


def _bare_row(s: RawSpan) -> tuple:
    status = "error" if s.status_code == 2 else ("ok" if s.status_code == 1 else "unset")
    return (
        s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, "other", s.start_ns, s.end_ns, status, None,
        _str(s.status_message), _str(s.resource.get("service.name")), None, None, None, None, None, None, None,
        None, None, None, None, None, None, [], orjson.dumps(s.attributes), orjson.dumps(s.events),
        orjson.dumps(s.resource), s.scope_name,
    )


_last_resource: list[Any] = [None, None]


def _resource_json(resource: dict[str, Any]) -> bytes:
    # All spans of a request share one resource dict: encode it once.
    if _last_resource[0] is not resource:
        _last_resource[:] = [resource, orjson.dumps(resource)]
    return _last_resource[1]
