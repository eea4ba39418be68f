"""One connection's HTTP/1.1 requests, each answered with a status per the OTLP/HTTP specification.

Checked in this order, before any body byte is read where the headers allow it: overload (503), the
bearer token (401), the path (404), the content type and encoding (415), the framing (411 without a
length, 400 for a malformed or ambiguous one, 413 over the limit), the sender's limits (429), free
disk (503). The body is then read against a deadline (408), decompressed in a stream with a cap (413),
sifted span by span (400 when nothing is usable, else 200 with ``partial_success``) and stored (503 if
that fails). Whatever goes wrong inside is answered 500, never a dropped connection.
"""

import http
import logging
import re
import select
import ssl
import traceback
import zlib
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING

import orjson

from eval_pipeline.lib.receiver import sift

if TYPE_CHECKING:
    from eval_pipeline.lib.receiver.server import Receiver, Stats

log = logging.getLogger("eval_pipeline.receiver")

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_PIECE = 64 << 10
_LENGTH = re.compile(r"[0-9]{1,18}")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_INFLATE = {"gzip", "x-gzip", "deflate"}
_IDLE_GRACE_S = 0.25
# The google.rpc.Code an error body carries, by HTTP status.
_RPC_CODE = {400: 3, 401: 16, 404: 5, 405: 12, 408: 4, 411: 3, 413: 8, 414: 3, 415: 3, 429: 8, 431: 3,
             500: 13, 501: 12, 503: 14, 505: 12}


def internal_error(stats: "Stats", exc: Exception, where: str) -> None:
    """Count and log a bug: its type and where it was raised, not its message, which may quote trace data."""
    stats.add(internal_errors=1)
    log.error("internal error (%s) %s", type(exc).__name__, where)
    log.debug("internal error raised at:\n%s", "".join(traceback.format_tb(exc.__traceback__)))


class Reply(Exception):  # noqa: N818 - an answer, not an error
    """An answer other than 200; ``close`` when the connection cannot carry another request."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, *,
                 close: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.headers, self.close = status, message, headers or {}, close


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "Receiver"

    def __init__(self, request, client_address, server, *, overloaded: bool = False) -> None:  # noqa: ANN001
        self.overloaded = overloaded
        self.timed_out = False  # set by the server's deadline keeper
        self.linger = False  # the connection ends with unread request bytes: close it gently
        super().__init__(request, client_address, server)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # answers are counted and logged by the receiver, without request lines or headers

    # ------------------------------------------------------------------------------- connection loop

    def handle(self) -> None:
        timeout = min(2.0, self.server.config.request_timeout_s) if self.overloaded else (
            self.server.config.request_timeout_s)
        while True:
            self.close_connection = True
            self.server.deadlines.start(self, self.connection, timeout)
            try:
                self.handle_one_request()
            finally:
                self.server.deadlines.stop(self)
            if self.close_connection or not self._next_request_arrives():
                return

    def handle_one_request(self) -> None:
        self.reply_type, self.body_read, self.held, self.answered = JSON, False, 0, False
        self._expect_continue = False
        try:
            try:
                self.raw_requestline = self.rfile.readline(65537)
            except TimeoutError:
                raise Reply(408, "no request arrived in time", close=True) from None
            if not self.raw_requestline:
                return  # the client closed the connection
            if len(self.raw_requestline) > 65536:
                raise Reply(414, "the request line is too long", close=True)
            if not self.raw_requestline.endswith(b"\n"):
                raise self._cut_short("the request line")
            if not self.parse_request():
                if self.answered:
                    return  # by send_error
                raise Reply(400, "the request line is empty", close=True)
            if self.timed_out:  # the headers were cut short by the deadline
                raise self._cut_short("the headers")
            if self.command != "POST":
                raise Reply(405, "only POST /v1/traces is served", {"Allow": "POST"}, close=True)
            self._post()
        except Reply as r:
            self._answer(r)
        except TimeoutError:
            self._answer(Reply(408, "the request did not arrive in time", close=True))
        except (OSError, EOFError):
            self.close_connection = True  # the client is gone: there is no one to answer
        except Exception as exc:  # noqa: BLE001 - a bug must cost an answer, not the connection
            internal_error(self.server.stats, exc, "while handling a request; answered 500")
            self._answer(Reply(500, "internal error; the batch was not stored", close=True))
        finally:
            self.server.memory.give(self.held)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answers what the base class's request-line and header parsing refuses, in the OTLP way."""
        self._answer(Reply(code, message or explain or http.HTTPStatus(code).phrase, close=True))

    def handle_expect_100(self) -> bool:
        # "100 Continue" only once the request has passed the checks, so a refused client sends no body.
        self._expect_continue = True
        return True

    def _next_request_arrives(self) -> bool:
        """Wait (keep-alive) for the next request, but give the worker up when other connections wait.

        A busy receiver already said ``Connection: close`` in its answer; a connection only closed while idle
        races with a request the client may be sending, so it is given a moment first."""
        srv = self.server
        poller = select.poll()  # not select(): descriptors past 1024 are likely with many connections
        poller.register(self.connection, select.POLLIN)
        waited = 0.0
        while waited < srv.config.idle_timeout_s and not srv.closing:
            if self._buffered():
                return True
            if srv.queued() and waited >= _IDLE_GRACE_S:
                return False
            if poller.poll(50):
                return True
            waited += 0.05
        return False

    def _buffered(self) -> bool:
        # A pipelined request may already sit in rfile's buffer, where select() cannot see it.
        sock = self.connection
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        sock.setblocking(False)
        try:
            return bool(self.rfile.peek(1))
        except (OSError, ValueError):
            return False
        finally:
            sock.settimeout(self.server.config.request_timeout_s)

    # ------------------------------------------------------------------------------------- the POST

    def _post(self) -> None:
        srv, cfg = self.server, self.server.config
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        self.reply_type = PROTOBUF if ctype == PROTOBUF else JSON
        if self.overloaded:
            raise Reply(503, "the receiver is busy; retry later", srv.retry_after(), close=True)
        sender = srv.sender(self.headers.get("Authorization"), self.connection)
        if sender is None:
            raise Reply(401, "missing or unknown bearer token; send 'Authorization: Bearer <token>'",
                        {"WWW-Authenticate": 'Bearer realm="otlp"'}, close=True)
        if self.path.split("?", 1)[0].rstrip("/") != "/v1/traces":
            raise Reply(404, "unknown path; send traces to /v1/traces", close=True)
        if ctype not in (PROTOBUF, JSON):
            raise Reply(415, f"unsupported content type; use {PROTOBUF} or {JSON}", close=True)
        encoding = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding not in _INFLATE | {"identity"}:
            raise Reply(415, "unsupported content encoding; use gzip, deflate or none", close=True)
        length = self._length()
        self._limit(srv.limiter.request(sender))
        if length is not None:
            self._limit(srv.limiter.transfer(sender, length))
        srv.check_disk(length or 0)
        body, wire = self._read_body(length, encoding in _INFLATE)
        if length is None:
            self._limit(srv.limiter.transfer(sender, wire))
        srv.deadlines.stop(self)
        try:
            sifted = sift.sift(body, ctype == PROTOBUF, srv.window())
        except sift.NotAnExport as exc:
            raise Reply(400, f"not an OTLP trace export: {exc}") from None
        if sifted.sent and not sifted.accepted:
            raise Reply(400, f"every span was rejected, nothing was stored: {sifted.message()}")
        path = srv.store(sifted.body, ".pb" if ctype == PROTOBUF else ".json", sender) if sifted.accepted else None
        srv.stats.add(batches=1 if path else 0, spans_accepted=sifted.accepted, spans_rejected=sifted.rejected,
                      bytes_received=wire, http_200=1)
        srv.stats.sender(sender)
        log.debug("batch from %s: %d spans accepted, %d rejected, %d bytes received -> %s", sender,
                  sifted.accepted, sifted.rejected, wire, path.name if path else "nothing to store")
        self._send(200, _success(self.reply_type, sifted))

    def _limit(self, wait: int) -> None:
        if wait:
            raise Reply(429, "this sender is over its rate limit; retry later", {"Retry-After": str(wait)},
                        close=not self.body_read)

    def _length(self) -> int | None:
        """The body's length from Content-Length, or None for a chunked body."""
        te = self.headers.get_all("Transfer-Encoding") or []
        cl = self.headers.get_all("Content-Length") or []
        if te:
            if cl:
                raise Reply(400, "both Content-Length and Transfer-Encoding are set; send one of them", close=True)
            if [c.strip().lower() for v in te for c in v.split(",")] != ["chunked"]:
                raise Reply(501, "only the chunked transfer encoding is supported", close=True)
            return None
        if not cl:
            raise Reply(411, "a Content-Length header is required (or Transfer-Encoding: chunked)", close=True)
        values = {v.strip() for h in cl for v in h.split(",")}
        if len(values) != 1 or not _LENGTH.fullmatch(value := values.pop()):
            raise Reply(400, "Content-Length must be one whole, non-negative number of bytes", close=True)
        self._check_size(int(value), "body")
        return int(value)

    def _check_size(self, n: int, what: str) -> None:
        limit = self.server.config.max_body_bytes
        if n > limit:
            raise Reply(413, f"the {what} is over the {limit} byte limit; send smaller batches", close=True)

    # ------------------------------------------------------------------------------------- the body

    def _read_body(self, length: int | None, compressed: bool) -> tuple[bytes, int]:
        """The (decompressed) body and the number of bytes it took on the wire."""
        if self._expect_continue:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        inflate = zlib.decompressobj(wbits=47) if compressed else None  # 47: gzip or zlib header
        parts: list[bytes] = []
        size = wire = 0
        for piece in self._pieces(length) if length is not None else self._chunks():
            wire += len(piece)
            out = [piece] if inflate is None else self._inflate(inflate, piece, size)
            for chunk in out:
                size += len(chunk)
                self._hold(len(chunk))
                parts.append(chunk)
        if inflate is not None and not inflate.eof:
            raise Reply(400, "the compressed body ends before its stream does")
        self.body_read = True
        return b"".join(parts), wire

    def _pieces(self, n: int):  # noqa: ANN202 - a generator of bytes
        while n > 0:
            piece = self.rfile.read(min(n, _PIECE))
            if not piece:
                raise self._cut_short("the body")
            n -= len(piece)
            yield piece

    def _chunks(self):  # noqa: ANN202 - a generator of bytes
        wire = 0
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise self._cut_short("a chunk header")
            size = line.split(b";")[0].strip()
            if not _CHUNK_SIZE.fullmatch(size):
                raise Reply(400, "malformed chunk size in the chunked body", close=True)
            n = int(size, 16)
            if n == 0:
                break
            wire += n
            self._check_size(wire, "body")
            yield from self._pieces(n)
            if self.rfile.read(2) != b"\r\n":
                raise Reply(400, "a chunk of the chunked body does not end where its size says", close=True)
        for _ in range(100):  # trailer fields, then the empty line
            line = self.rfile.readline(8192)
            if line in (b"\r\n", b"\n"):
                return
            if not line.endswith(b"\n"):
                raise self._cut_short("the chunked body's trailer")
        raise Reply(400, "too many trailer fields", close=True)

    def _inflate(self, inflate: "zlib._Decompress", data: bytes, produced: int) -> list[bytes]:
        """Decompress one wire piece, stopping as soon as the output would pass the limit."""
        limit = self.server.config.max_body_bytes
        out = []
        while data:
            try:
                chunk = inflate.decompress(data, limit - produced + 1)
            except zlib.error:
                raise Reply(400, "the body is not valid gzip or deflate data") from None
            produced += len(chunk)
            out.append(chunk)
            self._check_size(produced, "decompressed body")
            data = inflate.unconsumed_tail
            if inflate.eof and inflate.unused_data:
                raise Reply(400, "bytes follow the end of the compressed stream; send one gzip stream")
        return out

    def _hold(self, n: int) -> None:
        if not self.server.memory.take(n):
            raise Reply(503, "the receiver holds too many large batches in memory; retry later",
                        self.server.retry_after(), close=True)
        self.held += n

    def _cut_short(self, what: str) -> Reply:
        if self.timed_out:
            return Reply(408, f"{what} did not arrive within {self.server.config.request_timeout_s:g} s",
                         close=True)
        return Reply(400, f"the connection ended in the middle of {what}", close=True)

    # -------------------------------------------------------------------------------------- answers

    def _answer(self, r: Reply) -> None:
        self.server.stats.add(**{f"http_{r.status}": 1})
        log.debug("answered %d: %s", r.status, r.message)
        self.linger = not self.body_read
        try:
            self._send(r.status, _status(self.reply_type, r.status, r.message), r.headers,
                       close=r.close or not self.body_read)
        except OSError:
            self.close_connection = True

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None, *,
              close: bool = False) -> None:
        # Keep the connection only while no other connection waits for a worker.
        close = close or self.close_connection or self.server.queued() > 0 or self.server.closing
        lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}", f"Content-Type: {self.reply_type}",
                 f"Content-Length: {len(payload)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if close:
            lines.append("Connection: close")
        self.close_connection, self.answered = close, True
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)


def _status(content_type: str, status: int, message: str) -> bytes:
    """The OTLP error body: a google.rpc.Status, encoded like the request."""
    code = _RPC_CODE.get(status, 2)
    if content_type == PROTOBUF:
        text = message.encode()
        return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text
    return orjson.dumps({"code": code, "message": message})


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _success(content_type: str, sifted: sift.Sifted) -> bytes:
    message = sifted.message()
    if content_type == PROTOBUF:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

        resp = ExportTraceServiceResponse()
        if sifted.rejected or message:
            resp.partial_success.rejected_spans = sifted.rejected
            resp.partial_success.error_message = message
        return resp.SerializeToString()
    if sifted.rejected or message:
        return orjson.dumps({"partialSuccess": {"rejectedSpans": str(sifted.rejected), "errorMessage": message}})
    return b"{}"
