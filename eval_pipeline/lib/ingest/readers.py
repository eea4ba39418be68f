"""Read OpenTelemetry trace exports from disk into plain span records.

Accepted, per file, optionally gzip-compressed:
- OTLP/JSON ``ExportTraceServiceRequest`` (one object, a JSON array of them, or JSON lines as the
  Collector's file exporter writes them);
- OTLP protobuf ``ExportTraceServiceRequest`` (one message, or the Collector's 4-byte length-prefixed
  stream).

Readers are liberal in what they accept (hex ids of any case, base64 ids from protobuf's JSON mapping,
``0x`` prefixes, enum names or numbers, 64-bit numbers as strings or numbers, snake_case keys) and never
raise on bad data: every problem becomes a :class:`Problem` with a position and a reason, and the spans
around it are kept.

Another on-disk form is one more reader: a function that appends :class:`RawSpan` rows to ``out.spans``
(calling ``out.flush()`` after each request, so a large file stays in bounded memory) and a
:class:`Problem` for each record it cannot read, recognised by its first bytes in :func:`read_bytes`.
"""

import base64
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

# A single attribute value above this size is dropped (its span is kept) and reported.
MAX_ATTRIBUTE_CHARS = 1 << 20
_EXCERPT_CHARS = 200

SPAN_KINDS = {"UNSPECIFIED": 0, "INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
STATUS_CODES = {"UNSET": 0, "OK": 1, "ERROR": 2}


@dataclass(slots=True)
class RawSpan:
    """One span as the export carried it, with ids as lowercase hex and attributes as a plain dict."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: int
    start_ns: int
    end_ns: int
    status_code: int
    status_message: str | None
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    resource: dict[str, Any]
    scope_name: str | None
    position: int


@dataclass(slots=True)
class Problem:
    """Something in a file that could not be read: where, why, and a short excerpt."""

    position: int
    reason: str
    excerpt: str = ""


@dataclass
class FileRead:
    """What a file held. With a ``sink``, spans are handed over after each request (a JSON line, a
    protobuf message) instead of piling up, so a large file is read in bounded memory."""

    spans: list[RawSpan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    fmt: str = "unknown"
    sink: Callable[[list[RawSpan]], None] | None = None
    emitted: int = 0

    @property
    def total(self) -> int:
        return self.emitted + len(self.spans)

    def flush(self) -> None:
        if self.sink is not None and self.spans:
            self.emitted += len(self.spans)
            self.sink(self.spans)
            self.spans = []


class _Bad(Exception):
    """A record-level problem; the record is skipped and reported, the file goes on."""


def _excerpt(data: bytes | str) -> str:
    if isinstance(data, bytes):
        data = data[:_EXCERPT_CHARS].decode("utf-8", errors="replace")
    return data[:_EXCERPT_CHARS]


# ---------------------------------------------------------------------------------------------- ids

_HEXDIGITS = "0123456789abcdefABCDEF"


def normalize_id(value: Any, nbytes: int) -> str | None:
    """Return the id as lowercase hex, or None when empty; raise _Bad when unreadable.

    Accepts hex of either case (the OTLP/JSON rule), a ``0x`` prefix, base64 (protobuf's JSON
    mapping) and ``{"type": "Buffer", "data": [...]}`` byte arrays.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        n = nbytes * 2
        if len(value) == n and not value.strip(_HEXDIGITS):
            out = value.lower()
        elif len(value) == n + 2 and value[:2] in ("0x", "0X") and not value[2:].strip(_HEXDIGITS):
            out = value[2:].lower()
        else:
            try:
                raw = base64.b64decode(value, validate=True)
            except (ValueError, TypeError):
                raw = b""
            if len(raw) != nbytes:
                msg = f"id {value[:40]!r} is neither {n}-digit hex nor base64 of {nbytes} bytes"
                raise _Bad(msg)
            out = raw.hex()
    elif isinstance(value, dict) and isinstance(value.get("data"), list):
        try:
            raw = bytes(value["data"])
        except (ValueError, TypeError) as exc:
            raise _Bad(f"id byte array is not bytes: {exc}") from None
        if len(raw) != nbytes:
            raise _Bad(f"id byte array has {len(raw)} bytes, expected {nbytes}")
        out = raw.hex()
    else:
        raise _Bad(f"id of type {type(value).__name__} is not readable")
    if not out.strip("0"):
        return None
    return out


# --------------------------------------------------------------------------------------- JSON path


def _int(value: Any, what: str) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    if isinstance(value, float):
        return int(value)
    if isinstance(value, dict) and "low" in value and "high" in value:
        # a protobufjs Long that someone JSON.stringify-ed
        return (int(value["high"]) << 32) | (int(value["low"]) & 0xFFFFFFFF)
    raise _Bad(f"{what} {str(value)[:40]!r} is not an integer")


def _enum(value: Any, names: dict[str, int], prefix: str) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        key = value.upper()
        key = key.removeprefix(prefix).removeprefix("SPANKIND.").removeprefix("STATUSCODE.")
        if key in names:
            return names[key]
    return 0


def _any_value(v: Any) -> Any:
    """Decode an OTLP/JSON ``AnyValue``; an empty object is null."""
    if not isinstance(v, dict):
        return v  # liberal: some writers put native values here
    for k, x in v.items():
        if k in ("stringValue", "string_value"):
            return x
        if k in ("intValue", "int_value"):
            return int(x)
        if k in ("boolValue", "bool_value"):
            return bool(x)
        if k in ("doubleValue", "double_value"):
            return float(x)
        if k in ("arrayValue", "array_value"):
            return [_any_value(e) for e in (x or {}).get("values", ())]
        if k in ("kvlistValue", "kvlist_value"):
            return {e["key"]: _any_value(e.get("value")) for e in (x or {}).get("values", ())}
        if k in ("bytesValue", "bytes_value"):
            return x
    return None


def _attributes(items: Any, problems: list[Problem] | None, position: int) -> dict[str, Any]:
    if not items:
        return {}
    out = {}
    for a in items:
        key = a.get("key")
        if key is None:
            continue
        v = a.get("value")
        # Fast path: most attributes are strings.
        val = v.get("stringValue") if type(v) is dict else None
        if val is None:
            val = _any_value(v)
        if isinstance(val, str) and len(val) > MAX_ATTRIBUTE_CHARS:
            if problems is not None:
                problems.append(
                    Problem(position, f"attribute {key!r} is {len(val)} characters, over the "
                            f"{MAX_ATTRIBUTE_CHARS} limit; value dropped, span kept", _excerpt(val))
                )
            val = f"[dropped: {len(val)} characters]"
        out[key] = val
    return out


def _g(d: dict, camel: str, snake: str, default: Any = None) -> Any:
    v = d.get(camel)
    if v is None:
        v = d.get(snake, default)
    return v


def _spans_from_json(req: Any, position: int, out: FileRead) -> None:
    if not isinstance(req, dict):
        out.problems.append(Problem(position, f"expected a JSON object, got {type(req).__name__}",
                                    _excerpt(orjson.dumps(req))))
        return
    resource_spans = _g(req, "resourceSpans", "resource_spans")
    if resource_spans is None:
        keys = sorted(req)[:5]
        hint = ""
        if "resourceLogs" in req or "resourceMetrics" in req:
            hint = " (this is a logs or metrics export, not traces)"
        out.problems.append(Problem(position, f"not an OTLP trace export: no resourceSpans, "
                                              f"top-level keys {keys}{hint}", _excerpt(orjson.dumps(req))))
        return
    for rs in resource_spans:
        resource = _attributes((rs.get("resource") or {}).get("attributes"), out.problems, position)
        for ss in _g(rs, "scopeSpans", "scope_spans", ()) or ():
            scope_name = (ss.get("scope") or {}).get("name")
            for s in ss.get("spans") or ():
                try:
                    trace_id = normalize_id(_g(s, "traceId", "trace_id"), 16)
                    span_id = normalize_id(_g(s, "spanId", "span_id"), 8)
                    if trace_id is None or span_id is None:
                        raise _Bad("span has no traceId or spanId")
                    parent = normalize_id(_g(s, "parentSpanId", "parent_span_id"), 8)
                    start = _int(_g(s, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano")
                    end_raw = _g(s, "endTimeUnixNano", "end_time_unix_nano")
                    end = start if end_raw is None else _int(end_raw, "endTimeUnixNano")
                    status = s.get("status") or {}
                    events = []
                    for e in s.get("events") or ():
                        events.append({
                            "name": e.get("name"),
                            "time_unix_nano": _int(_g(e, "timeUnixNano", "time_unix_nano", 0), "timeUnixNano"),
                            "attributes": _attributes(e.get("attributes"), out.problems, position),
                        })
                    out.spans.append(RawSpan(
                        trace_id, span_id, parent, s.get("name") or "",
                        _enum(s.get("kind"), SPAN_KINDS, "SPAN_KIND_"), start, end,
                        _enum(status.get("code"), STATUS_CODES, "STATUS_CODE_"), status.get("message") or None,
                        _attributes(s.get("attributes"), out.problems, position), events, resource,
                        scope_name, position,
                    ))
                except _Bad as exc:
                    out.problems.append(Problem(position, f"unreadable span: {exc}", _excerpt(orjson.dumps(s))))
                except (AttributeError, TypeError, ValueError, KeyError) as exc:
                    out.problems.append(Problem(position, f"span of the wrong shape: {exc}",
                                                _excerpt(orjson.dumps(s))))


# ----------------------------------------------------------------------------------- protobuf path


def _pb_value(v: Any) -> Any:
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_pb_value(e) for e in v.array_value.values]
    if which == "kvlist_value":
        return {e.key: _pb_value(e.value) for e in v.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return getattr(v, which)


def _pb_attributes(items: Any, problems: list[Problem], position: int) -> dict[str, Any]:
    out = {}
    for a in items:
        val = _pb_value(a.value)
        if isinstance(val, str) and len(val) > MAX_ATTRIBUTE_CHARS:
            problems.append(Problem(position, f"attribute {a.key!r} is {len(val)} characters, over the "
                                              f"{MAX_ATTRIBUTE_CHARS} limit; value dropped, span kept", _excerpt(val)))
            val = f"[dropped: {len(val)} characters]"
        out[a.key] = val
    return out


def _pb_id(raw: bytes, nbytes: int) -> str | None:
    if not raw or not raw.strip(b"\0"):
        return None
    if len(raw) != nbytes:
        raise _Bad(f"id has {len(raw)} bytes, expected {nbytes}")
    return raw.hex()


def _spans_from_proto(req: Any, position: int, out: FileRead) -> None:
    for rs in req.resource_spans:
        resource = _pb_attributes(rs.resource.attributes, out.problems, position)
        for ss in rs.scope_spans:
            scope_name = ss.scope.name or None
            for s in ss.spans:
                try:
                    trace_id = _pb_id(s.trace_id, 16)
                    span_id = _pb_id(s.span_id, 8)
                    if trace_id is None or span_id is None:
                        raise _Bad("span has no trace_id or span_id")
                    events = [{"name": e.name, "time_unix_nano": e.time_unix_nano,
                               "attributes": _pb_attributes(e.attributes, out.problems, position)}
                              for e in s.events]
                    out.spans.append(RawSpan(
                        trace_id, span_id, _pb_id(s.parent_span_id, 8), s.name, s.kind,
                        s.start_time_unix_nano, s.end_time_unix_nano or s.start_time_unix_nano,
                        s.status.code, s.status.message or None,
                        _pb_attributes(s.attributes, out.problems, position), events, resource,
                        scope_name, position,
                    ))
                except _Bad as exc:
                    out.problems.append(Problem(position, f"unreadable span: {exc}", ""))


def _parse_proto(data: bytes, position: int) -> Any:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    msg = ExportTraceServiceRequest()
    try:
        msg.ParseFromString(data)
    except DecodeError as exc:
        raise _Bad(f"not a valid OTLP protobuf message: {exc}") from None
    return msg


# ------------------------------------------------------------------------------------------- files


def _gunzip(data: bytes) -> tuple[bytes, str | None]:
    """Decompress what can be decompressed; a truncated or corrupt stream keeps its readable prefix."""
    d = zlib.decompressobj(wbits=47)
    try:
        out = d.decompress(data)
    except zlib.error as exc:
        return b"", f"corrupt gzip stream: {exc}"
    if not d.eof:
        return out, f"truncated gzip stream: {len(data)} compressed bytes end before the stream does"
    return out, None


def _looks_length_prefixed(data: bytes) -> bool:
    pos, n = 0, len(data)
    while pos + 4 <= n:
        size = int.from_bytes(data[pos:pos + 4], "big")
        if size == 0 or pos + 4 + size > n:
            return False
        pos += 4 + size
    return pos == n


def read_bytes(data: bytes, out: FileRead | None = None) -> FileRead:
    """Read one file's (decompressed) content into spans and problems."""
    out = out or FileRead()
    if data[:2] == b"\x1f\x8b":
        data, problem = _gunzip(data)
        if problem:
            # The readable prefix is still read; its last, cut-off record is reported by the reader.
            out.problems.append(Problem(len(data), problem, _excerpt(data[-_EXCERPT_CHARS:])))
    stripped = data.lstrip()
    if not stripped:
        if not out.problems:
            out.problems.append(Problem(0, "empty file: no trace data"))
        return out
    if stripped[:1] in (b"{", b"["):
        before = list(out.problems)
        _read_json(data, out)
        if not out.total and data[:1] == b"\n":
            # A protobuf request starts with 0x0A ("\n"); if the next byte happens to be "{" or "[",
            # the file looks like JSON. Prefer the protobuf reading when it yields spans.
            as_proto = FileRead(problems=before)
            _read_proto(data, as_proto)
            if as_proto.spans:
                out.spans, out.problems, out.fmt = as_proto.spans, as_proto.problems, as_proto.fmt
    elif _looks_length_prefixed(data):
        out.fmt = "otlp-proto-stream"
        pos = 0
        while pos < len(data):
            size = int.from_bytes(data[pos:pos + 4], "big")
            try:
                _spans_from_proto(_parse_proto(data[pos + 4:pos + 4 + size], pos), pos, out)
            except _Bad as exc:
                out.problems.append(Problem(pos, str(exc)))
            out.flush()
            pos += 4 + size
    else:
        _read_proto(data, out)
    out.flush()
    return out


def _read_proto(data: bytes, out: FileRead) -> None:
    out.fmt = "otlp-proto"
    try:
        msg = _parse_proto(data, 0)
    except _Bad as exc:
        out.fmt = "unreadable"
        out.problems.append(Problem(0, f"{exc} (the file is neither JSON nor OTLP protobuf)", _excerpt(data)))
        return
    if not msg.resource_spans and data:
        out.problems.append(Problem(0, "binary file holds no OTLP trace data", _excerpt(data)))
    _spans_from_proto(msg, 0, out)


def _read_json(data: bytes, out: FileRead) -> None:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        doc = None
    else:
        if isinstance(doc, list):
            out.fmt = "otlp-json-array"
            for i, req in enumerate(doc):
                _spans_from_json(req, i, out)
                out.flush()
        else:
            out.fmt = "otlp-json"
            _spans_from_json(doc, 0, out)
        return
    # Not one document: JSON lines (the Collector file exporter), each line a request.
    out.fmt = "otlp-jsonl"
    lines = data.split(b"\n")
    good = 0
    bad: list[Problem] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            req = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            bad.append(Problem(lineno, f"malformed JSON on line {lineno}: {exc}", _excerpt(line)))
            continue
        good += 1
        _spans_from_json(req, lineno, out)
        out.flush()
    if good == 0 and len(bad) > 1:
        # A multi-line document that is broken: one problem for the file, not one per line.
        try:
            orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            out.fmt = "otlp-json"
            out.problems.append(Problem(exc.pos, f"malformed JSON: {exc}", _excerpt(data[max(0, exc.pos - 80):])))
            return
    out.problems.extend(bad)


def read_file(path: str | Path, sink: Callable[[list[RawSpan]], None] | None = None) -> FileRead:
    """Read a landing-zone file; never raises for bad content."""
    out = FileRead(sink=sink)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        out.problems.append(Problem(0, f"file could not be read: {exc}"))
        return out
    return read_bytes(data, out)
