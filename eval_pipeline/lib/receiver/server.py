"""The listening side: a bounded pool of worker threads behind a queue of accepted connections, a deadline
keeper for slow clients, a gentle closer for refused ones, disk and memory guards, and the counters
behind the per-minute summary.

Connections are accepted into a queue (as long as the listen backlog) that a fixed number of workers
serve; when the queue is full the accepting thread waits, so the kernel's backlog holds new connections
rather than refusing them. A connection that waited longer than ``max_queue_wait_s`` is answered 503
with ``Retry-After`` at once. No client can hold a worker longer than ``request_timeout_s`` per request
or ``idle_timeout_s`` between requests, and a waiting connection ends a worker's keep-alive wait.
"""

import contextlib
import datetime as dt
import errno
import logging
import os
import queue
import selectors
import shutil
import socket
import socketserver
import ssl
import threading
import time
import types
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eval_pipeline.lib.receiver.handler import Handler, Reply, internal_error
from eval_pipeline.lib.receiver.senders import RateLimiter, SenderLimits, Tokens, certificate_name, is_loopback
from eval_pipeline.lib.receiver.sift import Window

log = logging.getLogger("eval_pipeline.receiver")

_STALE_TMP_S = 3600  # a .tmp file this old was left by a receiver that died mid-write
_PLAIN_TO_TLS_BODY = b'{"code":3,"message":"this port speaks HTTPS: send to https://, not http://"}'
_PLAIN_TO_TLS = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n%s" % (len(_PLAIN_TO_TLS_BODY), _PLAIN_TO_TLS_BODY))


def _free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


@dataclass
class ReceiverConfig:
    landing_dir: Path
    tokens: Tokens | None = None
    tls: ssl.SSLContext | None = None  # with verify_mode CERT_REQUIRED, client certificates authenticate
    insecure_no_auth: bool = False  # allow a non-loopback address with neither tokens nor client certificates
    limits: SenderLimits = field(default_factory=SenderLimits)
    max_body_bytes: int = 64 << 20  # on the wire, and again after decompression
    max_buffered_bytes: int = 256 << 20  # bodies held in memory at once, all requests together
    min_free_bytes: int = 512 << 20  # refuse (503) a batch that would leave less free disk
    workers: int = 16
    backlog: int = 1024
    max_queue_wait_s: float = 3.0
    request_timeout_s: float = 30.0  # to receive one request's headers and body
    idle_timeout_s: float = 30.0  # between requests on a kept-alive connection
    retry_after_s: int = 5
    earliest: dt.date = dt.date(2000, 1, 1)  # spans must start on or after this day ...
    max_future_s: int = 86_400  # ... and at most this far ahead of the receiver's clock
    summary_interval_s: float = 60.0
    free_bytes: Callable[[Path], int] = _free_bytes


class ExposedError(ValueError):
    """Listening beyond loopback without authentication was not asked for explicitly."""


class Stats:
    """Counters since start (``total``) and since the last summary."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total: Counter = Counter()
        self._recent: Counter = Counter()
        self._senders: set[str] = set()

    def add(self, **counts: int) -> None:
        with self._lock:
            self.total.update(counts)
            self._recent.update(counts)

    def sender(self, name: str) -> None:
        with self._lock:
            self._senders.add(name)

    def take_recent(self) -> tuple[Counter, int]:
        with self._lock:
            recent, senders = self._recent, len(self._senders)
            self._recent, self._senders = Counter(), set()
        return recent, senders


class _Budget:
    """Bytes of request bodies held in memory at once, across all workers."""

    def __init__(self, total: int) -> None:
        self._lock = threading.Lock()
        self.free = total

    def take(self, n: int) -> bool:
        with self._lock:
            if n > self.free:
                return False
            self.free -= n
            return True

    def give(self, n: int) -> None:
        with self._lock:
            self.free += n


class Deadlines:
    """Cuts reads that run past their deadline: the socket's reading side is shut, so a blocked read returns
    at once and the handler answers 408 instead of holding its worker for as long as a client dribbles."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._due: dict[int, tuple[float, socket.socket, object]] = {}
        self._stop = threading.Event()
        threading.Thread(target=self._run, name="otlp-receiver-deadlines", daemon=True).start()

    def start(self, owner: object, sock: socket.socket, seconds: float) -> None:
        with self._lock:
            self._due[id(owner)] = (time.monotonic() + seconds, sock, owner)

    def stop(self, owner: object) -> None:
        with self._lock:
            self._due.pop(id(owner), None)

    def close(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            now = time.monotonic()
            with self._lock:
                late = [k for k, (due, _, _) in self._due.items() if due <= now]
                expired = [self._due.pop(k) for k in late]
            for _, sock, owner in expired:
                owner.timed_out = True
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RD)  # the plain socket's, also under TLS


class Lingerer:
    """Closes a connection whose request was answered before its body was read: the writing side is shut,
    and what the client still sends is read and dropped for a moment, so the close does not reset the
    connection before the client has read the answer."""

    def __init__(self, seconds: float = 2.0, max_sockets: int = 1024) -> None:
        self.seconds, self.max_sockets = seconds, max_sockets
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._new: list[socket.socket] = []
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._stop = False
        threading.Thread(target=self._run, name="otlp-receiver-lingerer", daemon=True).start()

    def add(self, sock: socket.socket) -> None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_WR)
            sock.setblocking(False)
        except OSError:
            sock.close()
            return
        with self._lock:
            self._new.append(sock)
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _run(self) -> None:
        due: dict[socket.socket, float] = {}
        while not self._stop:
            with self._lock:
                new, self._new = self._new, []
            for sock in new:
                if len(due) >= self.max_sockets:
                    sock.close()
                    continue
                due[sock] = time.monotonic() + self.seconds
                self._selector.register(sock, selectors.EVENT_READ)
            for key, _ in self._selector.select(timeout=0.1):
                if key.fileobj is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                try:
                    data = socket.socket.recv(key.fileobj, 65536)  # raw bytes, also under TLS: they are dropped
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    due[key.fileobj] = 0
            now = time.monotonic()
            for sock in [s for s, t in due.items() if t <= now]:
                del due[sock]
                self._selector.unregister(sock)
                sock.close()
        for sock in due:
            sock.close()


class Receiver(socketserver.TCPServer):
    """``POST /v1/traces`` into ``<landing>/receiver/<day>/``; see the package docstring."""

    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], config: ReceiverConfig) -> None:
        self.config = config
        host = address[0]
        if not (config.tokens or self.client_certificates or config.insecure_no_auth or is_loopback(host)):
            msg = (f"Refusing to listen on {host or 'all addresses'} without authentication: anyone who can reach "
                   f"port {address[1]} could write traces into the landing zone. Give bearer tokens with "
                   "--token-file FILE or EVAL_RECEIVER_TOKENS (and TLS with --tls-cert and --tls-key), or "
                   "pass --insecure-no-auth to accept unauthenticated senders anyway.")
            raise ExposedError(msg)
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.request_queue_size = config.backlog
        self.closing = False
        self.stats = Stats()
        self.limiter = RateLimiter(config.limits)
        self.memory = _Budget(max(config.max_buffered_bytes, 2 * config.max_body_bytes))
        self._queue: queue.Queue = queue.Queue(maxsize=config.backlog)
        self._workers: list[threading.Thread] = []
        self._summary_stop = threading.Event()
        config.landing_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(address, Handler)  # binds and listens; on failure calls server_close and raises
        _sweep_stale_tmp(config.landing_dir / "receiver")
        self.deadlines = Deadlines()
        self.lingerer = Lingerer()
        self._workers = [threading.Thread(target=self._work, name=f"otlp-receiver-{i}", daemon=True)
                         for i in range(config.workers)]
        for t in self._workers:
            t.start()
        threading.Thread(target=self._summaries, name="otlp-receiver-summary", daemon=True).start()

    def server_bind(self) -> None:
        # socketserver.TCPServer's bind; HTTPServer's would also look up the host's FQDN, which can hang.
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

    @property
    def client_certificates(self) -> bool:
        return self.config.tls is not None and self.config.tls.verify_mode == ssl.CERT_REQUIRED

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.config.tls else 'http'}://{host}:{port}/v1/traces"

    @property
    def accepted_spans(self) -> int:
        return self.stats.total["spans_accepted"]

    @property
    def accepted_batches(self) -> int:
        return self.stats.total["batches"]

    # ------------------------------------------------------------------------------ connections

    def get_request(self) -> tuple[socket.socket, tuple]:
        try:
            return super().get_request()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):  # out of descriptors: pause rather than spin
                log.warning("cannot accept connections: %s", exc.strerror)
                time.sleep(0.1)
            raise

    def process_request(self, request: socket.socket, client_address: tuple) -> None:
        """Queue the connection for a worker; while the queue is full, wait (the kernel backlog holds the rest)."""
        item = (request, client_address, time.monotonic())
        while True:
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                if self.closing:
                    request.close()
                    return

    def queued(self) -> int:
        return self._queue.qsize()

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            sock, address, queued_at = item
            self._serve(sock, address, time.monotonic() - queued_at > self.config.max_queue_wait_s)

    def _serve(self, sock: socket.socket, address: tuple, stale: bool) -> None:
        cfg = self.config
        linger = False
        try:
            sock.settimeout(min(2.0, cfg.request_timeout_s) if stale else cfg.request_timeout_s)
            if cfg.tls is not None:
                first = sock.recv(1, socket.MSG_PEEK)
                if first and first != b"\x16":  # not a TLS handshake record: plain HTTP to the HTTPS port
                    self.stats.add(http_400=1)
                    sock.sendall(_PLAIN_TO_TLS)
                    linger = True
                    return
                sock = cfg.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                owner = types.SimpleNamespace(timed_out=False)
                self.deadlines.start(owner, sock, sock.gettimeout())
                try:
                    sock.do_handshake()
                finally:
                    self.deadlines.stop(owner)
            linger = Handler(sock, address, self, overloaded=stale).linger
        except (OSError, ssl.SSLError) as exc:
            self.stats.add(connections_failed=1)
            log.debug("connection from %s ended before a request was answered: %s", address[0], type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - one connection's bug must not end a worker
            internal_error(self.stats, exc, "in a receiver worker")
        finally:
            if linger and not self.closing:
                self.lingerer.add(sock)
            else:
                sock.close()

    def sender(self, authorization: str | None, sock: socket.socket) -> str | None:
        """Who sent the request: a token's name, a client certificate's name, or ``anonymous``; None if refused."""
        if self.config.tokens is not None:
            return self.config.tokens.sender(authorization)
        if self.client_certificates:
            return certificate_name(sock) or "cert"
        return "anonymous"

    def retry_after(self) -> dict[str, str]:
        return {"Retry-After": str(self.config.retry_after_s)}

    # ---------------------------------------------------------------------------- landing zone

    def window(self) -> Window:
        cfg = self.config
        earliest = dt.datetime.combine(cfg.earliest, dt.time(), dt.UTC)
        return Window(int(earliest.timestamp()) * 1_000_000_000, time.time_ns() + cfg.max_future_s * 1_000_000_000,
                      f"{cfg.earliest} .. {cfg.max_future_s / 3600:g} h after the receiver's clock")

    def check_disk(self, nbytes: int) -> None:
        """Answer 503 when writing ``nbytes`` would leave less than the reserve free."""
        cfg = self.config
        try:
            free = cfg.free_bytes(cfg.landing_dir)
        except OSError as exc:
            raise Reply(503, f"the landing zone cannot be checked ({exc.strerror}); retry later",
                        self.retry_after(), close=True) from None
        if free - nbytes < cfg.min_free_bytes:
            raise Reply(503, f"the landing disk has {free >> 20} MiB free, and a batch must leave "
                             f"{cfg.min_free_bytes >> 20} MiB; retry later", self.retry_after(), close=True)

    def store(self, body: bytes, suffix: str, sender: str) -> Path:
        """Write-then-rename, so the ingester never sees half a batch (it skips ``.tmp`` files); a failed
        write removes its temporary file. The sender's name is part of the file name."""
        self.check_disk(len(body))
        now = dt.datetime.now(dt.UTC)
        folder = self.config.landing_dir / "receiver" / now.date().isoformat()
        final = folder / f"otlp-{now:%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex[:12]}-{sender}{suffix}"
        tmp = final.with_name(final.name + ".tmp")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
            fd = os.open(folder, os.O_RDONLY)  # the rename itself survives a crash only once the folder is synced
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            self.stats.add(writes_failed=1)
            log.warning("could not store a batch of %d bytes: %s", len(body), exc.strerror or type(exc).__name__)
            raise Reply(503, f"the batch could not be stored ({exc.strerror or 'write failed'}); retry later",
                        self.retry_after()) from None
        return final

    # ---------------------------------------------------------------------------------- lifecycle

    def _summaries(self) -> None:
        while not self._summary_stop.wait(self.config.summary_interval_s):
            self.log_summary()

    def log_summary(self) -> None:
        """Log what happened since the last summary (nothing when nothing did)."""
        recent, senders = self.stats.take_recent()
        answers = {k.removeprefix("http_"): v for k, v in sorted(recent.items()) if k.startswith("http_")}
        if not answers and not recent["connections_failed"]:
            return
        log.info("receiver, last %g s: %d batches stored, %d spans accepted, %d rejected, %.1f MB received from "
                 "%d senders; answers %s; %d connections ended early, %d writes failed, %d internal errors",
                 self.config.summary_interval_s, recent["batches"], recent["spans_accepted"],
                 recent["spans_rejected"], recent["bytes_received"] / 1e6, senders,
                 ", ".join(f"{k}: {v}" for k, v in answers.items()) or "none", recent["connections_failed"],
                 recent["writes_failed"], recent["internal_errors"])

    def server_close(self) -> None:
        self.closing = True
        super().server_close()
        if not self._workers:
            return  # never started: the address could not be bound
        for _ in self._workers:
            self._queue.put(None)
        for t in self._workers:
            t.join(timeout=self.config.request_timeout_s)
        self._summary_stop.set()
        self.deadlines.close()
        self.lingerer.close()
        self.log_summary()


def _sweep_stale_tmp(folder: Path) -> None:
    cutoff = time.time() - _STALE_TMP_S
    removed = 0
    for tmp in folder.glob("*/*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed += 1
    if removed:
        log.info("removed %d temporary files left by an earlier receiver", removed)


def serve(config: ReceiverConfig, host: str = "127.0.0.1", port: int = 4318) -> Receiver:
    """A started receiver (in a background thread); call ``shutdown()`` then ``server_close()``."""
    server = Receiver((host, port), config)
    threading.Thread(target=server.serve_forever, args=(0.1,), name="otlp-receiver", daemon=True).start()
    return server
