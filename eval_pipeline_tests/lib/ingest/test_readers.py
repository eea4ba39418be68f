"""Contract: every on-disk form real producers write (OTLP/JSON, Collector JSON lines, protobuf, the
Collector's length-prefixed proto, each optionally gzip-compressed) reads into the same spans; liberal
encodings are accepted; bad input becomes problems with a position and reason, never lost neighbours."""

import base64
import datetime as dt
import gzip
import os

import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from eval_pipeline.lib.ingest import readers
from eval_pipeline_tests.support import otlp_builders as b

T0 = dt.datetime(2026, 11, 20, 8, 30, 0)
TRACE = "5B8EFFF798038103D269B633813FC60C"  # upper-case hex, as in the OTLP example
ROOT, CHILD = "EEE19B7EC3C1B174", "EEE19B7EC3C1B173"
ALL_KINDS = {"s": "text", "i": 7, "d": 1.5, "b": True, "arr": ["x", 2], "kv": {"k": "v"}, "bytes": b"\x00\x01"}


def _request() -> dict:
    return b.request([
        b.span(TRACE, ROOT, "invoke_agent", T0, 500, attributes=ALL_KINDS, status=1),
        b.span(TRACE, CHILD, "chat gpt-4o", T0, 200, parent=ROOT, status=2, message="boom",
               attributes={"gen_ai.operation.name": "chat"}),
    ])


def _proto_bytes(req: dict) -> bytes:
    # protobuf's JSON mapping expects base64 ids: convert the hex ids first (trace-formats.md 8.1)
    req = orjson.loads(orjson.dumps(req))
    for rs in req["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                for k in ("traceId", "spanId", "parentSpanId"):
                    s[k] = base64.b64encode(bytes.fromhex(s[k])).decode()
    return json_format.ParseDict(req, ExportTraceServiceRequest()).SerializeToString()


def _key(read: readers.FileRead) -> list[tuple]:
    return sorted((s.trace_id, s.span_id, s.parent_span_id, s.name, s.start_ns, s.end_ns, s.status_code,
                   s.status_message, tuple(sorted(s.attributes.items(), key=str))) for s in read.spans)


def _forms() -> dict[str, bytes]:
    req = _request()
    js = orjson.dumps(req)
    pb = _proto_bytes(req)
    return {
        "json": js,
        "jsonl": js + b"\n" + b"\n",
        "json_array": orjson.dumps([req]),
        "json_gz": gzip.compress(js),
        "proto": pb,
        "proto_stream": len(pb).to_bytes(4, "big") + pb,
        "proto_stream_gz": gzip.compress(len(pb).to_bytes(4, "big") + pb),
    }


def test_read_bytes_every_format_gives_the_same_spans() -> None:
    forms = _forms()
    reference = _key(readers.read_bytes(forms["json"]))
    assert len(reference) == 2
    for name, data in forms.items():
        read = readers.read_bytes(data)
        assert not read.problems, name
        got = _key(read)
        # bytesValue comes back as base64 text on both paths
        assert got == reference, name


def test_read_bytes_normalises_ids_times_and_enums() -> None:
    span = _request()["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
    span["traceId"] = base64.b64encode(bytes.fromhex(TRACE)).decode()  # protobuf JSON mapping writes base64
    span["spanId"] = "0x" + CHILD.lower()
    span["kind"] = "SPAN_KIND_CLIENT"
    span["status"] = {"code": "STATUS_CODE_ERROR", "message": "boom"}
    span["startTimeUnixNano"] = int(span["startTimeUnixNano"])  # a number, not a string
    read = readers.read_bytes(orjson.dumps(b.request([span])))
    s = read.spans[0]
    assert (s.trace_id, s.span_id, s.parent_span_id) == (TRACE.lower(), CHILD.lower(), ROOT.lower())
    assert (s.kind, s.status_code) == (3, 2)
    assert s.end_ns - s.start_ns == 200_000_000


def test_read_bytes_decodes_every_any_value_kind() -> None:
    read = readers.read_bytes(orjson.dumps(_request()))
    root = next(s for s in read.spans if s.parent_span_id is None)
    assert root.attributes == {**ALL_KINDS, "bytes": base64.b64encode(b"\x00\x01").decode()}
    assert root.resource == {"service.name": "agent-svc"}


def test_read_bytes_malformed_line_keeps_the_lines_around_it() -> None:
    good = orjson.dumps(_request())
    data = good + b"\n" + b'{"resourceSpans": [ this is not json\n' + good + b"\n"  # defect: line 2 is broken JSON
    read = readers.read_bytes(data)
    assert len(read.spans) == 4
    assert [(p.position, p.reason.split(":")[0]) for p in read.problems] == [(2, "malformed JSON on line 2")]


def test_read_bytes_truncated_gzip_keeps_complete_lines() -> None:
    lines = []
    for i in range(3):
        req = _request()
        # incompressible padding, so that cutting the stream loses only the last line
        req["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] += b.attrs({"pad": os.urandom(600).hex()})
        lines.append(orjson.dumps(req))
    data = gzip.compress(b"\n".join(lines) + b"\n")
    cut = data[: len(data) - 400]  # defect: the stream is cut short inside the third line
    read = readers.read_bytes(cut)
    assert len(read.spans) == 4
    reasons = [p.reason for p in read.problems]
    assert any("truncated gzip" in r for r in reasons)
    assert any("malformed JSON on line 3" in r for r in reasons)


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty file"),
    (b"   \n", "empty file"),
    (b'{"resourceLogs": []}', "logs or metrics export"),  # defect: a logs export in the traces landing zone
    (b'{"hello": "world"}', "not an OTLP trace export"),
    (b'[1]', "expected a JSON object"),
    (b"\x07\x08garbage\xff\xfe", "neither JSON nor OTLP protobuf"),
    (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz", "spanId": "01"}]}]}]}', "unreadable span"),
    (b'{\n"resourceSpans": [\n{"scopeSpans": \n', "malformed JSON"),  # defect: a pretty-printed file cut short
])
def test_read_bytes_bad_input_gives_a_problem(data: bytes, reason: str) -> None:
    read = readers.read_bytes(data)
    assert read.spans == []
    assert len(read.problems) == 1
    assert reason in read.problems[0].reason


def test_read_bytes_absurd_attribute_is_dropped_span_kept() -> None:
    req = _request()
    huge = "x" * (readers.MAX_ATTRIBUTE_CHARS + 1)  # defect: a 1 MiB+ attribute
    req["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["attributes"] += b.attrs({"input.value": huge})
    read = readers.read_bytes(orjson.dumps(req))
    assert len(read.spans) == 2
    child = next(s for s in read.spans if s.parent_span_id)
    assert child.attributes["input.value"].startswith("[dropped:")
    assert len(read.problems) == 1 and "input.value" in read.problems[0].reason


def test_read_bytes_bad_span_keeps_its_siblings() -> None:
    req = _request()
    req["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["startTimeUnixNano"] = "yesterday"  # defect: not a number
    read = readers.read_bytes(orjson.dumps(req))
    assert [s.span_id for s in read.spans] == [CHILD.lower()]
    assert "startTimeUnixNano" in read.problems[0].reason


@pytest.mark.parametrize(("value", "expected"), [
    ("ABCDEF0123456789", "abcdef0123456789"),
    ("0xabcdef0123456789", "abcdef0123456789"),
    (base64.b64encode(bytes.fromhex("abcdef0123456789")).decode(), "abcdef0123456789"),
    ({"type": "Buffer", "data": list(bytes.fromhex("abcdef0123456789"))}, "abcdef0123456789"),
    ("", None),
    ("0000000000000000", None),
])
def test_normalize_id_accepts_every_encoding(value: object, expected: str | None) -> None:
    assert readers.normalize_id(value, 8) == expected


def test_normalize_id_rejects_garbage() -> None:
    with pytest.raises(readers._Bad, match="neither 16-digit hex nor base64"):
        readers.normalize_id("s01", 8)


@pytest.mark.parametrize("first_byte", [b"{", b"["])
def test_read_bytes_protobuf_that_starts_like_json_is_read_as_protobuf(first_byte: bytes) -> None:
    # A request starts with 0x0A ("\n") then the first ResourceSpans' length: 123 is "{", 91 is "[".
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    span = rs.scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.start_time_unix_nano = bytes(range(1, 17)), bytes(range(1, 9)), b.ns(T0)
    while len(rs.SerializeToString()) < first_byte[0]:
        span.name += "x"
    data = req.SerializeToString()
    assert data[:2] == b"\n" + first_byte
    read = readers.read_bytes(data)
    assert (read.fmt, len(read.spans), read.problems) == ("otlp-proto", 1, [])
