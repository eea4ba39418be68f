"""An OTLP/HTTP trace receiver that writes each accepted batch atomically into the landing zone.

``POST /v1/traces`` with ``application/x-protobuf`` or ``application/json`` bodies, optionally
``Content-Encoding: gzip``, answered per the OTLP/HTTP specification: 200 with an
``ExportTraceServiceResponse`` (``partial_success`` when some spans could not be read), 400 for a body
that is not a trace export, 413 for a body over the size limit, 415 for another content type, and 503
with ``Retry-After`` (back-pressure) when the disk is nearly full or too many batches are being written.
Any OpenTelemetry SDK or Collector can export straight to it; the ingester reads what it writes.
"""

import datetime as dt
import gzip
import os
import shutil
import threading
import uuid
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson

from eval_pipeline.lib.ingest import readers

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


@dataclass
class ReceiverConfig:
    landing_dir: Path
    max_body_bytes: int = 64 << 20
    min_free_bytes: int = 512 << 20  # refuse (503) below this much free disk
    max_in_flight: int = 16  # batches being written at once before back-pressure
    retry_after_s: int = 5


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], config: ReceiverConfig) -> None:
        self.config = config
        self.in_flight = 0
        self.accepted_spans = 0
        self.accepted_batches = 0
        self._lock = threading.Lock()
        config.landing_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1/traces"

    def write_batch(self, body: bytes, suffix: str) -> Path:
        """Write-then-rename, so the ingester never sees half a batch (it skips ``.tmp`` files)."""
        now = dt.datetime.now(dt.UTC)
        folder = self.config.landing_dir / "receiver" / now.date().isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        name = f"otlp-{now:%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex[:12]}{suffix}"
        tmp = folder / (name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        final = folder / name
        os.replace(tmp, final)
        return final


class _Handler(BaseHTTPRequestHandler):
    server: Receiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - fixed by the base class
        pass  # request lines carry no trace text, but keep the terminal quiet under load

    def _reply(self, status: int, content_type: str, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, message: str, content_type: str, headers: dict[str, str] | None = None) -> None:
        # The OTLP error body is a google.rpc.Status.
        if content_type == PROTOBUF:
            payload = _status_proto(status, message)
        else:
            payload = orjson.dumps({"code": status, "message": message})
        self._reply(status, content_type, payload, headers)

    def do_POST(self) -> None:  # noqa: N802 - fixed by the base class
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        reply_type = PROTOBUF if ctype == PROTOBUF else JSON
        length = int(self.headers.get("Content-Length") or 0)
        if self.path.rstrip("/") != "/v1/traces":
            self.rfile.read(length)
            self._error(404, f"unknown path {self.path}; send traces to /v1/traces", reply_type)
            return
        if ctype not in (PROTOBUF, JSON):
            self.rfile.read(length)
            self._error(415, f"unsupported content type {ctype!r}; use {PROTOBUF} or {JSON}", JSON)
            return
        cfg = self.server.config
        if length > cfg.max_body_bytes:
            self.rfile.read(length)
            self._error(413, f"body of {length} bytes is over the {cfg.max_body_bytes} byte limit", reply_type)
            return
        body = self.rfile.read(length)
        busy = self._busy()
        if busy:
            self._error(503, busy, reply_type, {"Retry-After": str(cfg.retry_after_s)})
            return
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError, zlib.error) as exc:
                self._error(400, f"body is not valid gzip: {exc}", reply_type)
                return
        read = readers.read_bytes(body)
        if not read.spans and read.problems:
            self._error(400, f"not an OTLP trace export: {read.problems[0].reason}", reply_type)
            return
        with self.server._lock:
            self.server.in_flight += 1
        try:
            self.server.write_batch(body, ".pb" if ctype == PROTOBUF else ".json")
        except OSError as exc:
            self._error(503, f"could not store the batch: {exc}", reply_type, {"Retry-After": str(cfg.retry_after_s)})
            return
        finally:
            with self.server._lock:
                self.server.in_flight -= 1
        with self.server._lock:
            self.server.accepted_spans += len(read.spans)
            self.server.accepted_batches += 1
        rejected = sum(1 for p in read.problems if p.reason.startswith(("unreadable span", "span of the wrong")))
        self._reply(200, reply_type, _response(reply_type, rejected, read.problems))

    def _busy(self) -> str | None:
        cfg = self.server.config
        if self.server.in_flight >= cfg.max_in_flight:
            return f"{self.server.in_flight} batches are being written; retry later"
        free = shutil.disk_usage(cfg.landing_dir).free
        if free < cfg.min_free_bytes:
            return f"only {free} bytes free on the landing disk; retry later"
        return None


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _status_proto(code: int, message: str) -> bytes:
    """A google.rpc.Status (code = field 1, message = field 2), encoded by hand to avoid a dependency."""
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _response(content_type: str, rejected: int, problems: list[readers.Problem]) -> bytes:
    message = "; ".join(sorted({p.reason for p in problems}))[:500] if problems else ""
    if content_type == PROTOBUF:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

        resp = ExportTraceServiceResponse()
        if rejected or message:
            resp.partial_success.rejected_spans = rejected
            resp.partial_success.error_message = message
        return resp.SerializeToString()
    if rejected or message:
        return orjson.dumps({"partialSuccess": {"rejectedSpans": str(rejected), "errorMessage": message}})
    return b"{}"


def serve(config: ReceiverConfig, host: str = "127.0.0.1", port: int = 4318) -> Receiver:
    """A started receiver (in a background thread); call ``shutdown()`` then ``server_close()``."""
    server = Receiver((host, port), config)
    threading.Thread(target=server.serve_forever, name="otlp-receiver", daemon=True).start()
    return server
