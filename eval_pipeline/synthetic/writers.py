"""OTLP files as SDKs and Collectors write them: OTLP/JSON in six writer styles (id case, enum names, 64-bit
numbers), Collector JSON lines, gzip variants, protobuf and the Collector's length-prefixed proto stream."""

import base64
import gzip
import random
from dataclasses import dataclass
from typing import Any

import orjson

from eval_pipeline.synthetic.content import APPS, resource_attributes
from eval_pipeline.synthetic.conventions.spans import Span
from eval_pipeline.synthetic.plans import DAY_NS, MS

FORMATS = ("json", "jsonl", "json.gz", "jsonl.gz", "pb", "binpb")

_KIND_NAMES = ("SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
               "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER")
_STATUS_NAMES = ("STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR")


@dataclass(frozen=True)
class Style:
    """How one JSON writer spells ids, enums and 64-bit numbers."""

    ids: str = "lower"  # "lower" (the spec), "upper", "base64" (protobuf's own JSON mapping)
    names: bool = False  # enum names instead of integers
    numbers: bool = False  # 64-bit integers as JSON numbers instead of strings
    compliant: bool = False  # writes the optional empty fields a Collector writes

    def id(self, h: str) -> str:
        if self.ids == "upper":
            return h.upper()
        if self.ids == "base64":
            return base64.b64encode(bytes.fromhex(h)).decode()
        return h

    def ns(self, t: int) -> Any:
        return t if self.numbers else str(t)

    def value(self, v: Any) -> dict[str, Any]:
        if isinstance(v, str):
            return {"stringValue": v}
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": v if self.numbers else str(v)}
        if isinstance(v, float):
            return {"doubleValue": v}
        if isinstance(v, bytes):
            return {"bytesValue": base64.b64encode(v).decode()}
        if isinstance(v, (list, tuple)):
            return {"arrayValue": {"values": [self.value(e) for e in v]}}
        if isinstance(v, dict):
            return {"kvlistValue": {"values": [{"key": k, "value": self.value(e)} for k, e in v.items()]}}
        return {}


STYLES = (
    Style(compliant=True),  # what the Collector and the SDK exporters write
    Style(ids="upper"),  # the spec's own example uses upper-case hex
    Style(names=True),  # non-compliant writers spell enums by name
    Style(numbers=True),  # JavaScript writers emit 64-bit numbers as numbers
    Style(ids="base64", names=True),  # google.protobuf.json_format.MessageToJson
    Style(ids="upper", names=True, numbers=True),
)


def attrs_json(attrs: dict[str, Any], st: Style) -> list[dict[str, Any]]:
    return [{"key": k, "value": st.value(v)} for k, v in attrs.items()]


def span_json(s: Span, st: Style) -> dict[str, Any]:
    d: dict[str, Any] = {"traceId": st.id(s.trace_id), "spanId": st.id(s.span_id)}
    if s.parent_id:
        d["parentSpanId"] = st.id(s.parent_id)
    elif st.compliant:
        d["parentSpanId"] = ""
    if st.compliant:
        d["traceState"] = ""
        d["flags"] = 257
    d["name"] = s.name
    d["kind"] = _KIND_NAMES[s.kind] if st.names else s.kind
    d["startTimeUnixNano"] = st.ns(s.start)
    d["endTimeUnixNano"] = st.ns(s.end)
    d["attributes"] = attrs_json(s.attrs, st)
    if s.events:
        d["events"] = [{"timeUnixNano": st.ns(t), "name": n, "attributes": attrs_json(a, st)}
                       for n, t, a in s.events]
    status: dict[str, Any] = {}
    if s.status:
        status["code"] = _STATUS_NAMES[s.status] if st.names else s.status
    if s.message:
        status["message"] = s.message
    d["status"] = status
    return d


def _grouped(spans: list[Span]) -> dict[str, dict[tuple[str, str], list[Span]]]:
    out: dict[str, dict[tuple[str, str], list[Span]]] = {}
    for s in spans:
        out.setdefault(s.family, {}).setdefault(s.scope, []).append(s)
    return out


def _request_json(spans: list[Span], st: Style) -> dict[str, Any]:
    resource_spans = []
    for family, scopes in _grouped(spans).items():
        resource_spans.append({
            "resource": {"attributes": attrs_json(resource_attributes(APPS[family]), st)},
            "scopeSpans": [{"scope": {"name": name, "version": version},
                            "spans": [span_json(s, st) for s in group]}
                           for (name, version), group in scopes.items()],
            "schemaUrl": "https://opentelemetry.io/schemas/1.37.0",
        })
    return {"resourceSpans": resource_spans}


def _pb_value(av: Any, v: Any) -> None:
    if isinstance(v, str):
        av.string_value = v
    elif isinstance(v, bool):
        av.bool_value = v
    elif isinstance(v, int):
        av.int_value = v
    elif isinstance(v, float):
        av.double_value = v
    elif isinstance(v, bytes):
        av.bytes_value = v
    elif isinstance(v, (list, tuple)):
        av.array_value.SetInParent()
        for e in v:
            _pb_value(av.array_value.values.add(), e)
    elif isinstance(v, dict):
        av.kvlist_value.SetInParent()
        for k, e in v.items():
            kv = av.kvlist_value.values.add()
            kv.key = k
            _pb_value(kv.value, e)


def _pb_attrs(target: Any, attrs: dict[str, Any]) -> None:
    for k, v in attrs.items():
        kv = target.add()
        kv.key = k
        _pb_value(kv.value, v)


def _request_pb(spans: list[Span]) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    for family, scopes in _grouped(spans).items():
        rs = req.resource_spans.add()
        rs.schema_url = "https://opentelemetry.io/schemas/1.37.0"
        _pb_attrs(rs.resource.attributes, resource_attributes(APPS[family]))
        for (name, version), group in scopes.items():
            ss = rs.scope_spans.add()
            ss.scope.name, ss.scope.version = name, version
            for s in group:
                ps = ss.spans.add()
                ps.trace_id = bytes.fromhex(s.trace_id)
                ps.span_id = bytes.fromhex(s.span_id)
                if s.parent_id:
                    ps.parent_span_id = bytes.fromhex(s.parent_id)
                ps.flags = 257
                ps.name = s.name
                ps.kind = s.kind
                ps.start_time_unix_nano = s.start
                ps.end_time_unix_nano = s.end
                _pb_attrs(ps.attributes, s.attrs)
                for n, t, a in s.events:
                    ev = ps.events.add()
                    ev.name, ev.time_unix_nano = n, t
                    _pb_attrs(ev.attributes, a)
                ps.status.code = s.status
                if s.message:
                    ps.status.message = s.message
    return req.SerializeToString()


@dataclass
class Batch:
    """One file's worth of spans, as a Collector or SDK exporter would flush them."""

    day: int
    spans: list[Span]
    fmt: str
    traces: list[str]
    defect: str = ""  # "truncated" (gzip cut short) or "bad_line" (a broken JSON line inside)


def _requests(spans: list[Span], rng: random.Random, per_request: int | None = None) -> list[list[Span]]:
    """Split a file's spans into export requests of one to three traces each."""
    by_trace: dict[str, list[Span]] = {}
    for s in spans:
        by_trace.setdefault(s.trace_id, []).append(s)
    groups = list(by_trace.values())
    out = []
    while groups:
        n = per_request or rng.randint(1, 3)
        out.append([s for g in groups[:n] for s in g])
        groups = groups[n:]
    return out


def file_contents(batches: list[Batch], day0: int, rng: random.Random) -> list[tuple[int, int, str, bytes]]:
    """Each batch as (day, export time, extension, content): flushed shortly after its last span ended, JSON
    files in the writer styles by turns, a batch's defect written into its bytes."""
    out: list[tuple[int, int, str, bytes]] = []
    json_files = rng.randrange(len(STYLES))
    for b in batches:
        day_end = day0 + (b.day + 1) * DAY_NS
        export = min(max(s.end for s in b.spans) + rng.randint(200, 2000) * MS, day_end - 1)
        fmt = b.fmt
        if fmt in ("pb", "binpb"):
            if fmt == "pb":
                data = _request_pb(b.spans)
            else:
                data = b"".join(len(m).to_bytes(4, "big") + m for m in map(_request_pb, _requests(b.spans, rng)))
        else:
            style = STYLES[json_files % len(STYLES)]
            json_files += 1
            if fmt.startswith("jsonl"):
                lines = [orjson.dumps(_request_json(r, style))
                         for r in _requests(b.spans, rng, 1 if b.defect else None)]
                if b.defect == "bad_line":
                    lines.insert(1, lines[1][: len(lines[1]) * 2 // 5])
                data = b"\n".join(lines) + b"\n"
            else:
                option = orjson.OPT_INDENT_2 if rng.random() < 0.3 else 0
                data = orjson.dumps(_request_json(b.spans, style), option=option)
            if fmt.endswith(".gz"):
                data = gzip.compress(data, compresslevel=6, mtime=0)
                if b.defect == "truncated":
                    data = data[: len(data) * 7 // 10]
        out.append((b.day, export, fmt, data))
    return out
