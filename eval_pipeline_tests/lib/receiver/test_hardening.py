"""Contract: the receiver cannot be knocked over. Every request gets an HTTP status (wrong shapes, bad
framing, bombs, slow clients, load); limits hold on the wire and after decompression; what would poison
ingestion is rejected with ``partial_success`` or 400; a failed or refused write leaves nothing behind;
each batch is logged at debug level and a summary at info, without trace text."""

import contextlib
import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import zlib
from collections import Counter
from pathlib import Path

import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from eval_pipeline.lib import ingest, receiver
from eval_pipeline.lib.ingest import readers
from eval_pipeline_tests.support import receiver_client as rc

_S = {"traceId": "0" * 31 + "1", "spanId": "0" * 15 + "1", "name": "x", "startTimeUnixNano": "1700000000000000000"}


def _under(*scope_spans: object) -> dict:
    return {"resourceSpans": [{"scopeSpans": list(scope_spans)}]}


# Shapes that used to drop the connection with no status (an unhandled exception in the reader).
WRONG_SHAPES = {
    "resourceSpans a number": {"resourceSpans": 5},
    "resourceSpans a string": {"resourceSpans": "abc"},
    "resourceSpans [5]": {"resourceSpans": [5]},
    "resourceSpans [null]": {"resourceSpans": [None]},
    "resourceSpans [[]]": {"resourceSpans": [[]]},
    "resource a string": {"resourceSpans": [{"resource": "x"}]},
    "resource attributes a number": {"resourceSpans": [{"resource": {"attributes": 5}}]},
    "resource attribute [5]": {"resourceSpans": [{"resource": {"attributes": [5]}}]},
    "resource intValue x": {"resourceSpans": [{"resource": {"attributes": [{"key": "a", "value": {"intValue": "x"}}]}}]},
    "resource arrayValue 5": {"resourceSpans": [{"resource": {"attributes": [{"key": "a", "value": {"arrayValue": 5}}]}}]},
    "resource kvlist entry without key": {
        "resourceSpans": [{"resource": {"attributes": [{"key": "a", "value": {"kvlistValue": {"values": [{}]}}}]}}]},
    "scopeSpans a number": {"resourceSpans": [{"scopeSpans": 5}]},
    "scopeSpans [null]": _under(None),
    "scopeSpans [5]": _under(5),
    "scope a string": _under({"scope": "x"}),
    "spans a number": _under({"spans": 5}),
}


@pytest.mark.parametrize("doc", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
def test_receiver_answers_wrong_shapes_with_400(tmp_path: Path, doc: dict) -> None:
    with rc.running(tmp_path) as server:
        answer = rc.post(server.server_address[1], orjson.dumps(doc))
        assert answer.status == 400 and "not an OTLP trace export" in answer.json()["message"]
        assert answer.json()["code"] == 3  # google.rpc.Code INVALID_ARGUMENT
        assert rc.landed(server.config) == [] and server.stats.total["internal_errors"] == 0


def test_receiver_rejects_spans_that_would_poison_ingestion(tmp_path: Path) -> None:
    good = rc.span_json("good")
    poison = [
        rc.span_json(startTimeUnixNano=str(10**30)),  # defect: far beyond int64 and any sane day
        rc.span_json(startTimeUnixNano="0"),  # defect: 1970
        rc.span_json(endTimeUnixNano="1"),  # defect: ends before it starts
        rc.span_json(attributes=[{"key": "n", "value": {"intValue": str(10**30)}}]),  # defect: int over 64 bits
        rc.span_json(events=[{"name": "e", "timeUnixNano": str(2**64 + 5)}]),  # defect: event time out of range
        rc.span_json(status="x"),  # defect: status of the wrong shape
        rc.span_json(attributes=[{"key": None, "value": {"stringValue": "v"}}]),  # defect: attribute without a key
        5,  # defect: not a span at all
    ]
    with rc.running(tmp_path) as server:
        answer = rc.post(server.server_address[1], rc.export_json(good, *poison))
        assert answer.status == 200
        partial = answer.json()["partialSuccess"]
        assert partial["rejectedSpans"] == str(len(poison))
        assert "startTimeUnixNano is outside 2000-01-01" in partial["errorMessage"]
        [landed] = rc.landed(server.config)
    read = readers.read_file(landed)
    assert [s.name for s in read.spans] == ["good"] and read.problems == []
    parsed = ingest.parse_file(str(landed), str(tmp_path))
    assert parsed.span_count == 1 and parsed.problems == []


def test_receiver_answers_a_deeply_nested_request(tmp_path: Path) -> None:
    deep: list = []
    for _ in range(300):
        deep = [deep]
    doc = orjson.loads(rc.export_json(rc.span_json(startTimeUnixNano="0")))  # defect: starts in 1970
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"].append(rc.span_json(links=[{"x": deep}]))  # defect: deep
    with rc.running(tmp_path) as server:
        answer = rc.post(server.server_address[1], json.dumps(doc).encode())  # orjson writes 254 levels at most
        assert answer.status == 400 and "nests too deep" in answer.json()["message"]
        assert server.stats.total["internal_errors"] == 0 and rc.landed(server.config) == []


@pytest.mark.parametrize("value", [{"kvlistValue": {"values": []}}, {"intValue": "5", "stringValue": "x"}, 7])
def test_receiver_refuses_a_service_name_that_is_not_text(tmp_path: Path, value: object) -> None:
    doc = orjson.loads(rc.export_json(rc.span_json()))
    doc["resourceSpans"][0]["resource"]["attributes"] = [{"key": "service.name", "value": value}]  # defect
    with rc.running(tmp_path) as server:
        answer = rc.post(server.server_address[1], orjson.dumps(doc))
        assert answer.status == 400 and "'service.name' is not a string" in answer.json()["message"]


def test_receiver_rejects_poison_protobuf_spans_and_a_batch_of_only_poison(tmp_path: Path) -> None:
    req = ExportTraceServiceRequest()
    spans = req.resource_spans.add().scope_spans.add().spans
    now = time.time_ns()
    for i, start in enumerate([now, 2**64 - 1, 0]):  # defects: the last two start out of range
        s = spans.add(trace_id=(i + 1).to_bytes(16, "big"), span_id=(i + 1).to_bytes(8, "big"), name=f"s{i}")
        s.start_time_unix_nano, s.end_time_unix_nano = start, start
    headers = {"Content-Type": receiver.PROTOBUF}
    with rc.running(tmp_path) as server:
        port = server.server_address[1]
        answer = rc.post(port, req.SerializeToString(), headers)
        assert answer.status == 200
        [landed] = rc.landed(server.config)
        assert [s.name for s in readers.read_file(landed).spans] == ["s0"]
        del spans[0]
        answer = rc.post(port, req.SerializeToString(), headers)
        assert answer.status == 400 and b"every span was rejected" in answer.body
        assert len(rc.landed(server.config)) == 1


@pytest.mark.parametrize(("headers", "status"), [
    ({"Content-Length": "abc"}, 400),  # defect: not a number (used to drop the connection)
    ({"Content-Length": "-1"}, 400),  # defect: negative (used to hang the client)
    ({"Content-Length": "2, 3"}, 400),  # defect: two different lengths
    ({"Content-Length": None}, 411),  # defect: no length at all
    ({"Transfer-Encoding": "chunked"}, 400),  # defect: a length and chunked at once
    ({"Content-Length": None, "Transfer-Encoding": "gzip, chunked"}, 501),  # defect: unsupported coding
])
def test_receiver_answers_bad_framing_without_hanging(tmp_path: Path, headers: dict, status: int) -> None:
    with rc.running(tmp_path) as server:
        answer = rc.post(server.server_address[1], rc.export_json(rc.span_json()), headers, timeout=5)
        assert answer.status == status and answer.json()["message"]
        assert rc.landed(server.config) == []


def _chunked(body: bytes, size: int = 1000) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
                    for i in range(0, len(body), size)) + b"0\r\n\r\n"


def test_receiver_reads_chunked_bodies_and_caps_them(tmp_path: Path) -> None:
    headers = {"Content-Length": None, "Transfer-Encoding": "chunked"}
    with rc.running(tmp_path, max_body_bytes=1 << 20) as server:
        port = server.server_address[1]
        ok = rc.send(port, rc.request(_chunked(rc.export_json(rc.span_json())), headers, length=False))
        assert ok.status == 200 and len(rc.landed(server.config)) == 1
        # defect: 2 MiB without a Content-Length, over the 1 MiB limit (used to bypass it)
        big = rc.send(port, rc.request(_chunked(b" " * (2 << 20), 64 << 10), headers, length=False))
        assert big.status == 413 and len(rc.landed(server.config)) == 1


def _bomb(expanded_mib: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    return b"".join(z.compress(zeros) for _ in range(expanded_mib)) + z.flush()


def test_receiver_stops_a_gzip_bomb_at_the_limit(tmp_path: Path) -> None:
    bomb = _bomb(100)  # defect: about 100 KB that expands to 100 MiB, over the 64 MiB limit
    assert len(bomb) < 200_000
    with rc.running(tmp_path) as server:
        answer = rc.post(server.server_address[1], bomb, {"Content-Encoding": "gzip"})
        assert answer.status == 413 and "decompressed body" in answer.json()["message"]
        assert rc.landed(server.config) == []
        assert server.memory.free == receiver.ReceiverConfig(tmp_path).max_buffered_bytes  # all memory handed back


def _slow_client(port: int, partial: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(partial)
    return sock


def test_receiver_cuts_slow_clients_with_408_and_keeps_serving(tmp_path: Path) -> None:
    threads_before = threading.active_count()
    with rc.running(tmp_path, workers=4, request_timeout_s=0.5, max_queue_wait_s=30) as server:
        port = server.server_address[1]
        body = rc.export_json(rc.span_json())
        # defects: a body that stops halfway, headers that never end, and a request line one byte at a time
        slow = [_slow_client(port, rc.request(body)[:-20]) for _ in range(10)]
        slow += [_slow_client(port, b"POST /v1/traces HTTP/1.1\r\nX-Slow: ") for _ in range(10)]
        dribbler = _slow_client(port, b"P")
        with contextlib.suppress(OSError):  # the receiver may have answered and closed already
            for ch in b"OST /v1/traces HTTP/1.1\r\n":
                time.sleep(0.05)
                dribbler.sendall(bytes([ch]))
        # a fixed pool (4 workers; the acceptor, deadlines, closer and summary threads), not a thread per client
        assert threading.active_count() <= threads_before + 4 + 4
        assert [rc.read_answer(sock).status for sock in [*slow, dribbler]] == [408] * 21
        for sock in [*slow, dribbler]:
            sock.close()
        assert rc.post(port, body).status == 200


def test_receiver_under_load_answers_every_request_200_or_503(tmp_path: Path) -> None:
    statuses: Counter = Counter()
    lock = threading.Lock()
    body = rc.export_json(rc.span_json())
    with rc.running(tmp_path, workers=2, max_queue_wait_s=0.02) as server:
        port = server.server_address[1]

        def client() -> None:
            for _ in range(4):
                try:
                    answer = rc.post(port, body, timeout=30)
                    key = answer.status if answer.status != 503 or answer.headers.get("retry-after") else "503 bare"
                except OSError as exc:  # a reset, a refused or dropped connection
                    key = type(exc).__name__
                with lock:
                    statuses[key] += 1

        threads = [threading.Thread(target=client) for _ in range(64)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stored = len(rc.landed(server.config))
    assert sum(statuses.values()) == 256 and set(statuses) <= {200, 503}, statuses
    assert stored == statuses[200]


def test_receiver_checks_free_disk_before_writing(tmp_path: Path) -> None:
    reserve = 100 << 20
    small, big = rc.export_json(rc.span_json()), rc.export_json(rc.span_json(name="x" * (2 << 20)))
    with rc.running(tmp_path, min_free_bytes=reserve, free_bytes=lambda _: reserve + (1 << 20)) as server:
        port = server.server_address[1]
        answer = rc.post(port, big)  # defect: would leave less than the reserve
        assert answer.status == 503 and answer.headers["retry-after"] == "5"
        assert list(tmp_path.rglob("*.tmp")) == [] and rc.landed(server.config) == []
        assert rc.post(port, small).status == 200


def test_receiver_removes_temporary_files_an_earlier_receiver_left(tmp_path: Path) -> None:
    day = tmp_path / "receiver" / "2026-11-20"
    day.mkdir(parents=True)
    old, fresh = day / "otlp-a.json.tmp", day / "otlp-b.json.tmp"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    with rc.running(tmp_path):
        assert not old.exists() and fresh.exists()  # fresh: perhaps another receiver's write in progress


def test_receiver_answers_other_methods_paths_and_types(tmp_path: Path) -> None:
    with rc.running(tmp_path) as server:
        port = server.server_address[1]
        assert rc.send(port, rc.request(method="GET")).status == 405
        assert rc.send(port, rc.request(b"{}", path="/v1/logs")).status == 404
        assert rc.post(port, b"{}", {"Content-Type": "text/plain"}).status == 415
        assert rc.post(port, b"{}", {"Content-Encoding": "br"}).status == 415
        assert rc.send(port, b"garbage\r\n\r\n").status == 400
        assert rc.post(port, b'{"resourceSpans": []}').status == 200  # empty: valid, nothing to store
        assert rc.landed(server.config) == [] and server.stats.total["internal_errors"] == 0


def test_receiver_logs_each_batch_at_debug_and_a_summary_at_info(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    secret_text = "my card is 4111 1111 1111 1111"
    span = rc.span_json(attributes=[{"key": "input.value", "value": {"stringValue": secret_text}}])
    caplog.set_level(logging.DEBUG, logger="eval_pipeline.receiver")
    with rc.running(tmp_path, summary_interval_s=3600) as server:
        port = server.server_address[1]
        assert rc.post(port, rc.export_json(span, rc.span_json(startTimeUnixNano="0"))).status == 200
        assert rc.post(port, b"{broken").status == 400
        server.log_summary()
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(m.startswith("batch from anonymous: 1 spans accepted, 1 rejected") for m in debug)
    assert any("1 batches stored, 1 spans accepted, 1 rejected" in m and "200: 1, 400: 1" in m for m in info)
    assert secret_text not in caplog.text and "4111" not in caplog.text


def test_receiver_window_follows_the_clock(tmp_path: Path) -> None:
    tomorrow = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=30)
    with rc.running(tmp_path) as server:
        answer = rc.post(server.server_address[1], rc.export_json(rc.span_json(), rc.span_json(start=tomorrow)))
        assert answer.json()["partialSuccess"]["rejectedSpans"] == "1"  # defect: 30 h in the future
