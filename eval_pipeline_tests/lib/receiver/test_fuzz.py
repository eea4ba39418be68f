"""Contract (property-based, with Hypothesis): whatever arrives (generated and mutated OTLP payloads, JSON or
protobuf, gzip or not, chunked or not, odd headers), the receiver answers with an HTTP status and never
raises; it answers 2xx only when what it wrote reconciles with what was sent (the spans read back from the
landing zone plus the spans it says it rejected equal the spans in the request), and it writes nothing
when it does not answer 2xx.

The quick profile runs a few hundred examples per test; RECEIVER_FUZZ_EXAMPLES=5000 runs a longer one."""

import gzip
import json
import os
import time
import zlib

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from eval_pipeline.lib import receiver
from eval_pipeline.lib.ingest import readers
from eval_pipeline_tests.support import receiver_client as rc

EXAMPLES = int(os.environ.get("RECEIVER_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 300,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
ANSWERS = {200, 400, 404, 405, 408, 411, 413, 415, 429, 431, 501, 503}
NOW_NS = time.time_ns()
KEYS = ["resourceSpans", "resource_spans", "resource", "attributes", "scopeSpans", "scope_spans", "scope", "name",
        "spans", "traceId", "spanId", "parentSpanId", "startTimeUnixNano", "endTimeUnixNano", "kind", "status",
        "code", "message", "events", "timeUnixNano", "links", "key", "value", "stringValue", "intValue",
        "doubleValue", "boolValue", "arrayValue", "kvlistValue", "bytesValue", "values"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    landing = tmp_path_factory.mktemp("fuzz-landing")
    with rc.running(landing, max_body_bytes=1 << 20, request_timeout_s=2,
                    limits=receiver.SenderLimits(0, 0)) as s:
        yield s


# ------------------------------------------------------------------------------------------ payloads

scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
           | st.text(max_size=12) | st.sampled_from(["0", "-1", "1e3", str(NOW_NS), str(2**64), "NaN", "x"]))
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=3)
                           | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), c, max_size=3), max_leaves=8)
times = st.integers(NOW_NS - 10 * 86_400 * 10**9, NOW_NS) | st.sampled_from([0, 1, 2**63, 2**64 - 1, NOW_NS * 2])
any_values = st.recursive(
    st.builds(lambda s: {"stringValue": s}, st.text(max_size=20))
    | st.builds(lambda i: {"intValue": str(i)}, st.integers(-(2**63), 2**63 - 1))
    | st.builds(lambda f: {"doubleValue": f}, st.floats(allow_nan=False, allow_infinity=False))
    | st.builds(lambda b: {"boolValue": b}, st.booleans()),
    lambda c: st.builds(lambda vs: {"arrayValue": {"values": vs}}, st.lists(c, max_size=3)), max_leaves=5)
attributes = st.lists(st.builds(lambda k, v: {"key": k, "value": v}, st.text(max_size=10), any_values), max_size=4)


@st.composite
def json_span(draw: st.DrawFn) -> dict:
    start = draw(times)
    return {"traceId": draw(st.binary(min_size=16, max_size=16)).hex(),
            "spanId": draw(st.binary(min_size=8, max_size=8)).hex(), "name": draw(st.text(max_size=12)),
            "kind": draw(st.integers(0, 5)), "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + draw(st.integers(0, 10**9))), "attributes": draw(attributes),
            "status": {"code": draw(st.integers(0, 2))}}


@st.composite
def json_request(draw: st.DrawFn) -> dict:
    return {"resourceSpans": [
        {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "fuzz"}}] + draw(attributes)},
         "scopeSpans": [{"scope": {"name": "fuzz"}, "spans": draw(st.lists(json_span(), max_size=4))}
                        for _ in range(draw(st.integers(0, 2)))]}
        for _ in range(draw(st.integers(0, 2)))]}


def _paths(node: object, here: tuple = ()) -> list[tuple]:
    out = [here]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*here, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*here, i))
    return out


@st.composite
def mutated_json(draw: st.DrawFn) -> bytes:
    doc = draw(json_request())
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 3]))):
        path = draw(st.sampled_from(_paths(doc)))
        if not path:
            doc = draw(json_values)
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return json.dumps(doc).encode()  # the standard library writes integers of any size, and NaN


@st.composite
def proto_request(draw: st.DrawFn) -> bytes:
    req = ExportTraceServiceRequest()
    for _ in range(draw(st.integers(0, 2))):
        rs = req.resource_spans.add()
        kv = rs.resource.attributes.add(key="service.name")
        kv.value.string_value = "fuzz"
        spans = rs.scope_spans.add().spans
        for _ in range(draw(st.integers(0, 4))):
            start = draw(times)
            s = spans.add(trace_id=draw(st.binary(min_size=15, max_size=17)), span_id=draw(st.binary(min_size=7,
                          max_size=9)), name=draw(st.text(max_size=12)), start_time_unix_nano=start % 2**64,
                          end_time_unix_nano=(start + draw(st.integers(-5, 10**9))) % 2**64)
            a = s.attributes.add(key=draw(st.text(max_size=8)))
            a.value.int_value = draw(st.integers(-(2**63), 2**63 - 1))
    body = bytearray(req.SerializeToString())
    for _ in range(draw(st.integers(0, 2))):  # byte-level mutations: flip, cut, insert
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        at = draw(st.integers(0, max(0, len(body) - 1)))
        if op == "flip" and body:
            body[at] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del body[at:]
        else:
            body[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(body)


# ---------------------------------------------------------------------------------------- requests


@st.composite
def wire_request(draw: st.DrawFn) -> tuple[bytes, bytes, str, str]:
    """(raw request, the body the receiver is told about, its declared encoding, the content type)."""
    protobuf = draw(st.booleans())
    payload = draw(proto_request() if protobuf else mutated_json())
    ctype = draw(st.sampled_from([receiver.PROTOBUF if protobuf else receiver.JSON] * 4 + [
        receiver.JSON + "; charset=utf-8", receiver.PROTOBUF.upper(), "text/plain", ""]))
    coding = draw(st.sampled_from(["identity"] * 3 + ["gzip"] * 2 + ["deflate", "gzip-undeclared",
                                                                       "plain-declared-gzip", "gzip-truncated"]))
    declared = {"gzip-undeclared": "identity", "plain-declared-gzip": "gzip", "gzip-truncated": "gzip"}.get(coding, coding)
    body = {"gzip": gzip.compress, "gzip-undeclared": gzip.compress, "deflate": zlib.compress,
            "gzip-truncated": lambda b: gzip.compress(b)[:-9]}.get(coding, lambda b: b)(payload)
    headers = {"Content-Type": ctype, "Content-Encoding": None if declared == "identity" else declared}
    headers.update(draw(st.dictionaries(st.sampled_from(["X-Odd", "Authorization", "Expect", "Connection",
                                                         "Accept-Encoding", "User-Agent"]),
                                        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
                                        max_size=2)))
    framing = draw(st.sampled_from(["length"] * 4 + ["chunked"] * 2 + ["short-length", "double-length"]))
    if framing == "chunked":
        cut = draw(st.integers(1, 4096))
        wire = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + cut]), body[i:i + cut]) for i in range(0, len(body), cut))
        raw = rc.request(wire + b"0\r\n\r\n", {**headers, "Transfer-Encoding": "chunked"}, length=False)
        return raw, body, declared, ctype
    if framing == "short-length":
        told = draw(st.integers(0, len(body)))
        return rc.request(body, {**headers, "Content-Length": str(told)}, length=False), body[:told], declared, ctype
    if framing == "double-length":
        raw = rc.request(body, {**headers, "Content-Length": f"{len(body)}, {len(body) + 1}"}, length=False)
        return raw, body, declared, ctype
    return rc.request(body, headers), body, declared, ctype


def _spans_sent(body: bytes, declared: str, ctype: str) -> int | None:
    """The oracle: how many spans the request holds, or None when it is not a readable export."""
    try:
        data = zlib.decompress(body, 47) if declared != "identity" else body
        if ctype.split(";")[0].lower() == receiver.PROTOBUF:
            req = ExportTraceServiceRequest()
            req.ParseFromString(data)
            return sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
        doc = json.loads(data)
        pick = lambda d, a, b: d.get(a) if d.get(a) is not None else d.get(b)  # noqa: E731
        return sum(len(ss.get("spans") or []) for rs in pick(doc, "resourceSpans", "resource_spans")
                   for ss in pick(rs, "scopeSpans", "scope_spans") or [])
    except Exception:  # noqa: BLE001 - anything the oracle cannot count must not have been accepted
        return None


def _rejected(answer: rc.Answer) -> int:
    if answer.headers.get("content-type") == receiver.PROTOBUF:
        resp = ExportTraceServiceResponse()
        resp.ParseFromString(answer.body)
        return resp.partial_success.rejected_spans
    return int(answer.json().get("partialSuccess", {}).get("rejectedSpans", 0))


@FUZZ
@given(wire_request())
def test_receiver_fuzz_every_request_answered_and_reconciled(server: receiver.Receiver,
                                                             case: tuple[bytes, bytes, str, str]) -> None:
    raw, body, declared, ctype = case
    before = set(rc.landed(server.config))
    answer = rc.send(server.server_address[1], raw, timeout=30)
    new = sorted(set(rc.landed(server.config)) - before)
    event(f"answered {answer.status}")
    assert answer.status in ANSWERS, answer
    assert server.stats.total["internal_errors"] == 0
    if answer.status != 200:
        assert new == []
        return
    sent = _spans_sent(body, declared, ctype)
    assert sent is not None, "accepted a request the oracle cannot read"
    read = [readers.read_file(p) for p in new]
    assert all(r.problems == [] for r in read), [r.problems for r in read]
    assert sum(len(r.spans) for r in read) + _rejected(answer) == sent


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([receiver.JSON, receiver.PROTOBUF]), st.booleans())
def test_receiver_fuzz_arbitrary_bytes_are_answered(server: receiver.Receiver, junk: bytes, ctype: str,
                                                     as_request_line: bool) -> None:
    raw = junk + b"\r\n\r\n" if as_request_line else rc.request(junk, {"Content-Type": ctype})
    before = set(rc.landed(server.config))
    answer = rc.send(server.server_address[1], raw, timeout=30)
    assert answer.status in ANSWERS and server.stats.total["internal_errors"] == 0
    new = sorted(set(rc.landed(server.config)) - before)
    assert answer.status == 200 or new == []



header_text = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=15)


@FUZZ
@given(st.sampled_from(["POST", "GET", "PUT", "OPTIONS"]) | header_text, header_text,
       st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/x"]),
       st.lists(st.tuples(header_text.filter(lambda t: ":" not in t),
                          st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)), max_size=5))
def test_receiver_fuzz_request_heads_are_answered(server: receiver.Receiver, method: str, path: str, version: str,
                                                  headers: list[tuple[str, str]]) -> None:
    head = f"{method} {path} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    answer = rc.send(server.server_address[1], head.encode(), timeout=30)
    assert answer.status in ANSWERS | {505}, answer
    assert server.stats.total["internal_errors"] == 0
