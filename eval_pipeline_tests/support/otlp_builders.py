"""Small builders for OTLP/JSON test fixtures (the encoding of the OTLP specification)."""

import base64
import datetime as dt
import itertools
from typing import Any

import orjson

_ids = itertools.count(1)


def any_value(v: Any) -> dict:
    if v is None:
        return {}
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, bytes):
        return {"bytesValue": base64.b64encode(v).decode()}
    if isinstance(v, list):
        return {"arrayValue": {"values": [any_value(e) for e in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": any_value(e)} for k, e in v.items()]}}
    return {"stringValue": str(v)}


def attrs(d: dict[str, Any]) -> list[dict]:
    return [{"key": k, "value": any_value(v)} for k, v in d.items()]


def ns(t: dt.datetime) -> int:
    return int(t.replace(tzinfo=dt.UTC).timestamp()) * 1_000_000_000 + t.microsecond * 1000


def new_trace_id() -> str:
    return f"{next(_ids):032x}"


def new_span_id() -> str:
    return f"{next(_ids):016x}"


def span(trace_id: str, span_id: str, name: str, start: dt.datetime, ms: float = 100.0, *,
         parent: str | None = None, attributes: dict | None = None, status: int = 0,
         message: str | None = None, events: list[dict] | None = None, kind: int = 1) -> dict:
    s = ns(start)
    out = {
        "traceId": trace_id, "spanId": span_id, "parentSpanId": parent or "", "name": name, "kind": kind,
        "startTimeUnixNano": str(s), "endTimeUnixNano": str(s + int(ms * 1_000_000)),
        "attributes": attrs(attributes or {}),
        "events": [{"timeUnixNano": str(s), "name": e["name"], "attributes": attrs(e.get("attributes", {}))}
                   for e in (events or [])],
        "status": {"code": status, **({"message": message} if message else {})},
    }
    return out


def request(spans: list[dict], service: str = "agent-svc") -> dict:
    return {"resourceSpans": [{"resource": {"attributes": attrs({"service.name": service})},
                               "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}]}]}


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)
