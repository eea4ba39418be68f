"""OTLP protobuf: one ``ExportTraceServiceRequest``, or the Collector's stream of 4-byte big-endian
length-prefixed messages.

protobuf checks types and UTF-8 itself; what is left to check is what it cannot know: id lengths, the time
range, nesting depth and attribute size (:mod:`.records`), each reported for the smallest thing holding it.
"""

import base64
from typing import Any

from eval_pipeline.lib.ingest.records import (
    MAX_ATTRIBUTE_CHARS,
    MAX_DEPTH,
    BadRecord,
    FileRead,
    Problem,
    RawSpan,
    describe,
    excerpt,
    pb_id,
    to_time,
)

_INT64 = 1 << 63


def _value(v: Any, depth: int = 0) -> Any:
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which in ("array_value", "kvlist_value"):
        if depth >= MAX_DEPTH:
            raise BadRecord(f"value nested deeper than {MAX_DEPTH} levels")
        if which == "array_value":
            return [_value(e, depth + 1) for e in v.array_value.values]
        return {e.key: _value(e.value, depth + 1) for e in v.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return getattr(v, which)


def _attributes(items: Any, problems: list[Problem], position: int, where: str = "span") -> dict[str, Any]:
    out = {}
    for a in items:
        try:
            val = _value(a.value)
        except (BadRecord, RecursionError) as exc:
            problems.append(Problem(position, f"{where} attribute {a.key[:100]!r}: {exc}; attribute dropped, "
                                              "the rest kept"))
            continue
        if isinstance(val, str) and len(val) > MAX_ATTRIBUTE_CHARS:
            problems.append(Problem(position, f"attribute {a.key[:100]!r} is {len(val)} characters, over the "
                                              f"{MAX_ATTRIBUTE_CHARS} limit; value dropped, span kept", excerpt(val)))
            val = f"[dropped: {len(val)} characters]"
        out[a.key] = val
    return out


def _span(s: Any, resource: dict[str, Any], scope_name: str | None, position: int, out: FileRead) -> RawSpan:
    trace_id = pb_id(s.trace_id, 16)
    span_id = pb_id(s.span_id, 8)
    if trace_id is None or span_id is None:
        raise BadRecord("span has no trace_id or span_id")
    start = to_time(s.start_time_unix_nano, "start_time_unix_nano")
    end = s.end_time_unix_nano or start
    if end < start or end >= _INT64:
        out.problems.append(Problem(position, f"span {span_id} end_time_unix_nano {end} is before its start or out "
                                              "of range; end set to its start, span kept"))
        end = start
    events = []
    for e in s.events:
        if e.time_unix_nano >= _INT64:
            out.problems.append(Problem(position, f"span {span_id}: event time {e.time_unix_nano} is out of range; "
                                                  "event dropped, span kept"))
            continue
        events.append({"name": e.name, "time_unix_nano": e.time_unix_nano,
                       "attributes": _attributes(e.attributes, out.problems, position, "event")})
    return RawSpan(
        trace_id, span_id, pb_id(s.parent_span_id, 8), s.name, s.kind if 0 <= s.kind < 1 << 31 else 0, start, end,
        s.status.code if 0 <= s.status.code < 1 << 31 else 0, s.status.message or None,
        _attributes(s.attributes, out.problems, position), events, resource, scope_name, position,
    )


def spans_from_message(req: Any, position: int, out: FileRead) -> None:
    for rs in req.resource_spans:
        resource = _attributes(rs.resource.attributes, out.problems, position, "resource")
        for ss in rs.scope_spans:
            scope_name = ss.scope.name or None
            for s in ss.spans:
                try:
                    out.spans.append(_span(s, resource, scope_name, position, out))
                except BadRecord as exc:
                    out.problems.append(Problem(position, f"unreadable span: {exc}", ""))
                except Exception as exc:  # never lose the span's neighbours to an unforeseen value
                    out.problems.append(Problem(position, f"span could not be read: {describe(exc)}", ""))


def parse_message(data: bytes) -> Any:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    msg = ExportTraceServiceRequest()
    try:
        msg.ParseFromString(data)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise BadRecord(f"not a valid OTLP protobuf message: {exc}") from None
    return msg


def looks_length_prefixed(data: bytes) -> bool:
    pos, n = 0, len(data)
    while pos + 4 <= n:
        size = int.from_bytes(data[pos:pos + 4], "big")
        if size == 0 or pos + 4 + size > n:
            return False
        pos += 4 + size
    return pos == n


def read_stream(data: bytes, out: FileRead) -> None:
    out.fmt = "otlp-proto-stream"
    pos = 0
    while pos < len(data):
        size = int.from_bytes(data[pos:pos + 4], "big")
        try:
            spans_from_message(parse_message(data[pos + 4:pos + 4 + size]), pos, out)
        except BadRecord as exc:
            out.problems.append(Problem(pos, str(exc)))
        out.flush()
        pos += 4 + size


def read_message(data: bytes, out: FileRead) -> None:
    out.fmt = "otlp-proto"
    try:
        msg = parse_message(data)
    except BadRecord as exc:
        out.fmt = "unreadable"
        out.problems.append(Problem(0, f"{exc} (the file is neither JSON nor OTLP protobuf)", excerpt(data)))
        return
    if not msg.resource_spans and data:
        out.problems.append(Problem(0, "binary file holds no OTLP trace data", excerpt(data)))
    spans_from_message(msg, 0, out)
