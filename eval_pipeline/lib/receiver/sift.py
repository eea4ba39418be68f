"""Decide, span by span, what of an export request may enter the landing zone.

The receiver is stricter than the file readers: it writes only what ingestion reads without a problem.
A request whose envelope (the request, resourceSpans, scopeSpans, resources and scopes) has the wrong
shape is refused whole (:class:`NotAnExport`, answered 400). A span that is unreadable or would poison
ingestion (timestamps outside a sane window, integers outside 64 bits, values nested too deep) is
rejected alone and counted in the answer's ``partial_success``; the others are written. The bytes
written are the request as sent when nothing was rejected, else the same request without the rejected
spans, so the landing zone keeps everything else exactly as the sender encoded it.

Reasons never quote attribute values or other trace text: they name the field and the rule.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from eval_pipeline.lib.ingest import readers

_INT64 = (-(1 << 63), (1 << 63) - 1)
_INT32_MAX = (1 << 31) - 1
_DECIMAL = re.compile(r"-?[0-9]{1,20}")
MAX_VALUE_DEPTH = 32
_ANY_VALUE_KEYS = {f"{kind}{suffix}" for kind in ("string", "bool", "int", "double", "array", "kvlist", "bytes")
                   for suffix in ("Value", "_value")}


class NotAnExport(ValueError):
    """The request as a whole is not an OTLP trace export."""


@dataclass(frozen=True)
class Window:
    """Timestamps a span may carry (Unix nanoseconds, inclusive)."""

    earliest_ns: int
    latest_ns: int
    rule: str  # how the window reads to a sender, e.g. "2000-01-01 .. 1 day from now"


@dataclass
class Sifted:
    body: bytes  # what to write: only the accepted spans (empty when none)
    sent: int = 0
    rejected: int = 0
    reasons: Counter = field(default_factory=Counter)  # reason -> spans rejected for it
    notes: list[str] = field(default_factory=list)  # remarks that reject nothing

    @property
    def accepted(self) -> int:
        return self.sent - self.rejected

    def message(self, limit: int = 1000) -> str:
        parts = [f"{n} span{'s' if n > 1 else ''} rejected: {reason}" for reason, n in self.reasons.most_common()]
        return "; ".join(parts + self.notes)[:limit]


class _Reject(Exception):
    """One span is rejected; the message is its reason."""


def sift(body: bytes, protobuf: bool, window: Window) -> Sifted:
    """Split a request into what may be written and what is rejected; raise NotAnExport for a bad envelope."""
    return _sift_proto(body, window) if protobuf else _sift_json(body, window)


# --------------------------------------------------------------------------------------------- JSON


def _get(d: dict, camel: str, snake: str) -> Any:
    # The readers accept protobuf's snake_case field names as well; camelCase wins when both are there.
    v = d.get(camel)
    return d.get(snake) if v is None else v


def _items(v: Any, where: str, exc: type[Exception]) -> list:
    if v is None:
        return []
    if not isinstance(v, list):
        raise exc(f"{where} is a JSON {_kind(v)}, not a list")
    return v


def _kind(v: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(v), "null")


def _sift_json(body: bytes, window: Window) -> Sifted:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise NotAnExport(f"the body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise NotAnExport(f"the body is a JSON {_kind(doc)}; an ExportTraceServiceRequest is an object")
    if _get(doc, "resourceSpans", "resource_spans") is None:
        hint = " (a logs or metrics export: send it to a logs or metrics endpoint)" if (
            "resourceLogs" in doc or "resourceMetrics" in doc) else ""
        keys = [k[:40] for k in sorted(doc)[:5]]
        raise NotAnExport(f"no resourceSpans in the request; top-level keys {keys}{hint}")
    out = Sifted(body)
    for i, rs in enumerate(_items(_get(doc, "resourceSpans", "resource_spans"), "resourceSpans", NotAnExport)):
        where = f"resourceSpans[{i}]"
        _envelope_object(rs, where)
        resource = rs.get("resource")
        if resource is not None:
            _envelope_object(resource, f"{where}.resource")
            _envelope_attributes(resource.get("attributes"), f"{where}.resource")
            _service_name(resource.get("attributes"), where)
        for j, ss in enumerate(_items(_get(rs, "scopeSpans", "scope_spans"), f"{where}.scopeSpans", NotAnExport)):
            here = f"{where}.scopeSpans[{j}]"
            _envelope_object(ss, here)
            scope = ss.get("scope")
            if scope is not None:
                _envelope_object(scope, f"{here}.scope")
                if not isinstance(scope.get("name"), str | None):
                    raise NotAnExport(f"{here}.scope.name is not a string")
                _envelope_attributes(scope.get("attributes"), f"{here}.scope")
            spans = _items(ss.get("spans"), f"{here}.spans", NotAnExport)
            kept = []
            for s in spans:
                try:
                    _json_span(s, window)
                    kept.append(s)
                except _Reject as exc:
                    out.reasons[str(exc)] += 1
            out.sent += len(spans)
            if len(kept) < len(spans):
                ss["spans"] = kept
                out.rejected += len(spans) - len(kept)
            if not out.notes:
                out.notes = _long_values(kept)
    if out.rejected:
        try:
            out.body = orjson.dumps(doc) if out.accepted else b""
        except orjson.JSONEncodeError:  # orjson writes at most 254 levels of nesting, and reads 1024
            raise NotAnExport("the request nests too deep to store without its rejected spans") from None
    return out


def _envelope_object(v: Any, where: str) -> None:
    if not isinstance(v, dict):
        raise NotAnExport(f"{where} is a JSON {_kind(v)}, not an object")


def _envelope_attributes(items: Any, where: str) -> None:
    try:
        _attributes(items, where)
    except _Reject as exc:
        raise NotAnExport(str(exc)) from None


def _service_name(items: list | None, where: str) -> None:
    # Ingestion stores service.name in a text column: any other type would fail the whole file.
    for kv in items or ():
        v = kv.get("value")
        kind = next((k for k in v if k in _ANY_VALUE_KEYS), None) if isinstance(v, dict) else None
        if kv.get("key") == "service.name" and (
                not isinstance(v, str | dict | None) or kind not in (None, "stringValue", "string_value")):
            raise NotAnExport(f"{where}.resource attribute 'service.name' is not a string")


def _json_span(s: Any, window: Window) -> None:
    if not isinstance(s, dict):
        raise _Reject(f"a span is a JSON {_kind(s)}, not an object")
    for camel, snake, nbytes, required in (("traceId", "trace_id", 16, True), ("spanId", "span_id", 8, True),
                                           ("parentSpanId", "parent_span_id", 8, False)):
        try:
            value = readers.normalize_id(_get(s, camel, snake), nbytes)
        except Exception:  # noqa: BLE001 - whatever the reader's id rules refuse is a rejection
            raise _Reject(f"{camel} is neither {nbytes * 2}-digit hex nor base64 of {nbytes} bytes") from None
        if required and value is None:
            raise _Reject(f"the span has no {camel} (or an all-zero one)")
    if not isinstance(s.get("name"), str | None):
        raise _Reject("name is not a string")
    _enum(s.get("kind"), "kind")
    start = _nanos(_get(s, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano", window)
    end_raw = _get(s, "endTimeUnixNano", "end_time_unix_nano")
    if end_raw is not None and _nanos(end_raw, "endTimeUnixNano", window) < start:
        raise _Reject("endTimeUnixNano is before startTimeUnixNano")
    status = s.get("status")
    if status is not None:
        if not isinstance(status, dict):
            raise _Reject("status is not an object")
        _enum(status.get("code"), "status.code")
        if not isinstance(status.get("message"), str | None):
            raise _Reject("status.message is not a string")
    _attributes(s.get("attributes"), "span")
    for e in _items(s.get("events"), "events", _Reject):
        if not isinstance(e, dict):
            raise _Reject("an event is not an object")
        t = _get(e, "timeUnixNano", "time_unix_nano")
        if t not in (None, 0, "0"):
            _nanos(t, "events.timeUnixNano", window)
        if not isinstance(e.get("name"), str | None):
            raise _Reject("an event name is not a string")
        _attributes(e.get("attributes"), "event")
    if not all(isinstance(link, dict) for link in _items(s.get("links"), "links", _Reject)):
        raise _Reject("a link is not an object")


def _nanos(v: Any, what: str, window: Window) -> int:
    if isinstance(v, str) and _DECIMAL.fullmatch(v):
        n = int(v)
    elif isinstance(v, int) and not isinstance(v, bool):
        n = v
    elif isinstance(v, float) and v.is_integer():
        n = int(v)
    else:
        raise _Reject(f"{what} is missing or not an integer of nanoseconds")
    if not window.earliest_ns <= n <= window.latest_ns:
        raise _Reject(f"{what} is outside {window.rule}")
    return n


def _enum(v: Any, what: str) -> None:
    # Unknown names read as 0; numbers must fit the int32 column they land in.
    if isinstance(v, str) and v.isdigit():
        if not _DECIMAL.fullmatch(v):
            raise _Reject(f"{what} is not written in the digits 0-9")
        v = int(v)
    if isinstance(v, int) and not isinstance(v, bool) and not 0 <= v <= _INT32_MAX:
        raise _Reject(f"{what} is out of range")
    if not isinstance(v, str | int | None):
        raise _Reject(f"{what} is neither a number nor a name")


def _attributes(items: Any, where: str) -> None:
    for kv in _items(items, f"{where} attributes", _Reject):
        if not isinstance(kv, dict):
            raise _Reject(f"an attribute of the {where} is not an object")
        key = kv.get("key")
        if not isinstance(key, str):
            # The readers drop (and quarantine) an attribute without a text key: refused here instead.
            raise _Reject(f"an attribute key of the {where} is missing or not a string")
        problem = _value_problem(kv.get("value"), 0)
        if problem:
            raise _Reject(f"{where} attribute {str(key)[:64]!r} {problem}")


def _value_problem(v: Any, depth: int) -> str | None:
    """What is wrong with an OTLP/JSON AnyValue (or a plain scalar, which the readers also take), or None."""
    if depth > MAX_VALUE_DEPTH:
        return f"is nested deeper than {MAX_VALUE_DEPTH} levels"
    if v is None or isinstance(v, str | bool | float):
        return None
    if isinstance(v, int):
        return None if _INT64[0] <= v <= _INT64[1] else "is an integer outside 64 bits"
    if not isinstance(v, dict):
        return f"is a JSON {_kind(v)}, not an AnyValue"
    # The reader decodes the first key it knows, so that is the one checked.
    for k, x in v.items():
        if k in ("stringValue", "string_value", "bytesValue", "bytes_value"):
            return None if isinstance(x, str) else f"has a {k} that is not a string"
        if k in ("boolValue", "bool_value"):
            return None if isinstance(x, bool) else f"has a {k} that is not true or false"
        if k in ("intValue", "int_value"):
            ok = isinstance(x, int | str) and not isinstance(x, bool) and (
                isinstance(x, int) or _DECIMAL.fullmatch(x)) and _INT64[0] <= int(x) <= _INT64[1]
            return None if ok else f"has a {k} that is not a 64-bit integer"
        if k in ("doubleValue", "double_value"):
            return None if _is_double(x) else f"has a {k} that is not a number"
        if k in ("arrayValue", "array_value", "kvlistValue", "kvlist_value"):
            return _list_value_problem(k, x, depth)
    return None


def _is_double(x: Any) -> bool:
    if isinstance(x, str):
        try:
            float(x)  # the JSON mapping also writes "NaN", "Infinity" and numbers as strings
        except ValueError:
            return False
        return True
    return isinstance(x, int | float) and not isinstance(x, bool)


def _list_value_problem(k: str, x: Any, depth: int) -> str | None:
    if not x:
        return None
    values = x.get("values", ()) if isinstance(x, dict) else None
    if not isinstance(values, list | tuple):
        return f"has a {k} without a list of values"
    for e in values:
        if k.startswith("kvlist"):
            if not isinstance(e, dict) or not isinstance(e.get("key"), str):
                return f"has a {k} entry without a string key"
            e = e.get("value")
        problem = _value_problem(e, depth + 1)
        if problem:
            return problem
    return None


def _long_values(spans: list[dict]) -> list[str]:
    # The reader keeps such a span but drops the value; say so rather than surprise the sender later.
    for s in spans:
        for kv in s.get("attributes") or ():
            v = kv.get("value")
            if isinstance(v, dict) and isinstance(v.get("stringValue"), str) and (
                    len(v["stringValue"]) > readers.MAX_ATTRIBUTE_CHARS):
                return [f"attribute values over {readers.MAX_ATTRIBUTE_CHARS} characters are dropped at ingestion "
                        "(their spans are kept)"]
    return []


# ----------------------------------------------------------------------------------------- protobuf


def _sift_proto(body: bytes, window: Window) -> Sifted:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    msg = ExportTraceServiceRequest()
    try:
        msg.ParseFromString(body)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise NotAnExport(f"the body is not an OTLP protobuf ExportTraceServiceRequest: {exc}") from None
    out = Sifted(body)
    for i, rs in enumerate(msg.resource_spans):
        for kv in rs.resource.attributes:
            if kv.key == "service.name" and kv.value.WhichOneof("value") not in ("string_value", None):
                raise NotAnExport(f"resource_spans[{i}].resource attribute 'service.name' is not a string")
        for ss in rs.scope_spans:
            kept = []
            for s in ss.spans:
                try:
                    _proto_span(s, window)
                    kept.append(s)
                except _Reject as exc:
                    out.reasons[str(exc)] += 1
            out.sent += len(ss.spans)
            if len(kept) < len(ss.spans):
                out.rejected += len(ss.spans) - len(kept)
                kept = [_copy(s) for s in kept]
                del ss.spans[:]
                ss.spans.extend(kept)
    if out.rejected:
        out.body = msg.SerializeToString() if out.accepted else b""
    return out


def _copy(s: Any) -> Any:
    c = type(s)()
    c.CopyFrom(s)
    return c


def _proto_span(s: Any, window: Window) -> None:
    for raw, what, nbytes, required in ((s.trace_id, "trace_id", 16, True), (s.span_id, "span_id", 8, True),
                                        (s.parent_span_id, "parent_span_id", 8, False)):
        empty = not raw.strip(b"\0")
        if empty and required:
            raise _Reject(f"the span has no {what} (or an all-zero one)")
        if not empty and len(raw) != nbytes:
            raise _Reject(f"{what} has {len(raw)} bytes, not {nbytes}")
    _in_window(s.start_time_unix_nano, "start_time_unix_nano", window)
    if s.end_time_unix_nano:
        _in_window(s.end_time_unix_nano, "end_time_unix_nano", window)
        if s.end_time_unix_nano < s.start_time_unix_nano:
            raise _Reject("end_time_unix_nano is before start_time_unix_nano")
    if not 0 <= s.kind <= _INT32_MAX or not 0 <= s.status.code <= _INT32_MAX:
        raise _Reject("kind or status.code is out of range")
    for e in s.events:
        if e.time_unix_nano:
            _in_window(e.time_unix_nano, "events.time_unix_nano", window)


def _in_window(n: int, what: str, window: Window) -> None:
    if not window.earliest_ns <= n <= window.latest_ns:
        raise _Reject(f"{what} is outside {window.rule}")

