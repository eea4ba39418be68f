"""Text out of the values producers put in spans: JSON inside strings (decoded defensively), message lists of
every convention's shape, wrapped inputs and outputs, down to the one readable string a trace column holds."""

from typing import Any

import orjson


def decode(value: Any) -> Any:
    """Decode JSON-in-a-string defensively (up to twice: MLflow and Langfuse double-encode)."""
    for _ in range(2):
        if not isinstance(value, str):
            return value
        s = value.lstrip()
        if not s or s[0] not in '{["':
            return value
        try:
            value = orjson.loads(s)
        except orjson.JSONDecodeError:
            return value
    return value


def compact(value: Any) -> str | None:
    """Structured values as compact JSON with sorted keys; text stays text (and so does JSON text too deep or
    too large to re-encode)."""
    decoded = decode(value)
    if decoded is None:
        return None
    if isinstance(decoded, str):
        return decoded
    try:
        return orjson.dumps(decoded, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        if isinstance(value, str):
            return value
        raise


def content_text(content: Any) -> str | None:
    """Text of a message's content: a string, or a list of parts (GenAI, OpenAI, Vercel shapes)."""
    content = decode(content)
    if content is None:
        return None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict):
                t = part.get("type")
                if t in (None, "text", "input_text", "output_text"):
                    txt = part.get("content", part.get("text"))
                    if isinstance(txt, str):
                        texts.append(txt)
        return "\n".join(texts) if texts else None
    if isinstance(content, dict):
        return content_text(content.get("content", content.get("text")))
    return str(content)


def message_text(msg: dict[str, Any]) -> str | None:
    if "parts" in msg:
        return content_text(msg["parts"])
    return content_text(msg.get("content"))


def messages(value: Any) -> list[dict[str, Any]] | None:
    """A list of role-tagged messages, if the value is (or wraps) one."""
    if value is None:
        return None
    value = decode(value)
    if isinstance(value, dict):
        if isinstance(value.get("messages"), list):
            value = value["messages"]
        elif isinstance(value.get("choices"), list):
            value = [c.get("message", c) for c in value["choices"] if isinstance(c, dict)]
        elif "role" in value:
            value = [value]
        else:
            return None
    if isinstance(value, list) and value and all(isinstance(m, dict) and "role" in m for m in value):
        return value
    return None


TEXT_KEYS = ("input", "query", "question", "prompt", "user_input", "text", "content", "output",
              "answer", "response", "result", "final_output", "outputs", "inputs")


def text_of(value: Any, role: str) -> str | None:
    """Readable text of an input (``role='user'``) or output (``role='assistant'``) value."""
    value = decode(value)
    if value is None or value == [] or value == {}:
        return None
    if isinstance(value, str):
        return value
    msgs = messages(value)
    if msgs is not None:
        for m in reversed(msgs):
            if m.get("role") == role:
                txt = message_text(m)
                if txt:
                    return txt
        if role == "assistant":
            return None  # an input-only message list has no output text
        return message_text(msgs[-1])
    if isinstance(value, dict):
        if set(value) == {"args", "kwargs"}:
            # Traceloop's call wrapper: the first positional argument, else the keyword arguments.
            args = value["args"] if isinstance(value["args"], list) else [value["args"]]
            return text_of(args[0], role) if args else text_of(value["kwargs"], role)
        for k in TEXT_KEYS:
            if k in value:
                txt = text_of(value[k], role)
                if txt:
                    return txt
        if len(value) == 1:
            return text_of(next(iter(value.values())), role)
    return compact(value)
