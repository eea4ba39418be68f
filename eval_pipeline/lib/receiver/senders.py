"""Who may send: bearer tokens (each with a name recorded beside the batches it sends), the TLS context
(optionally requiring client certificates), and per-sender rate limits.

Tokens are kept only as SHA-256 digests once loaded: the text of a token never reaches a log line, an
error message, a file name or a response. A presented token is compared against every digest in constant
time (``hmac.compare_digest`` over equal-length digests), with no early exit.
"""

import hashlib
import hmac
import ipaddress
import math
import re
import socket
import ssl
import stat
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# RFC 6750 b64token: what may follow "Bearer " in an Authorization header.
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
MIN_TOKEN_CHARS = 16
_GENERATE_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"


@dataclass(frozen=True)
class Tokens:
    """The accepted bearer tokens, as (name, sha256 digest) pairs."""

    digests: tuple[tuple[str, bytes], ...]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.digests]

    def sender(self, authorization: str | None) -> str | None:
        """The name of the token an ``Authorization`` header carries, or None when it carries no known one."""
        scheme, _, value = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        presented = hashlib.sha256(value.strip().encode()).digest()
        found = None
        for name, digest in self.digests:
            if hmac.compare_digest(presented, digest):
                found = name
        return found


def parse_tokens(text: str, source: str) -> Tokens:
    """Tokens from ``name:token`` entries (or bare tokens, named ``token1``, ``token2``, ...), one per line
    or separated by commas; blank entries and lines starting with ``#`` are skipped."""
    digests: list[tuple[str, bytes]] = []
    names: set[str] = set()
    entries = [e.strip() for line in text.splitlines() if not line.lstrip().startswith("#")
               for e in line.split(",")]
    for n, entry in enumerate((e for e in entries if e), start=1):
        name, sep, token = entry.partition(":")
        name, token = (name.strip(), token.strip()) if sep else (f"token{n}", name.strip())
        where = f"entry {n} of {source}"
        if not _NAME.fullmatch(name):
            msg = (f"The token name in {where} is not valid: use 1-64 letters, digits, '-' or '_' "
                   "(the name is written into file names).")
            raise ValueError(msg)
        if not _TOKEN.fullmatch(token) or len(token) < MIN_TOKEN_CHARS:
            msg = (f"The token named {name!r} in {where} is not a usable bearer token: it needs at least "
                   f"{MIN_TOKEN_CHARS} characters of letters, digits and -._~+/ ({_GENERATE_HINT}).")
            raise ValueError(msg)
        digest = hashlib.sha256(token.encode()).digest()
        if name in names or any(hmac.compare_digest(digest, d) for _, d in digests):
            msg = f"The token named {name!r} in {where} repeats a name or a token given before it; give each once."
            raise ValueError(msg)
        names.add(name)
        digests.append((name, digest))
    if not digests:
        msg = f"{source} holds no tokens; write one 'name:token' per line ({_GENERATE_HINT})."
        raise ValueError(msg)
    return Tokens(tuple(digests))


def load_tokens(token_file: str | None, env: Mapping[str, str]) -> tuple[Tokens | None, list[str]]:
    """Tokens from ``token_file``, else from ``EVAL_RECEIVER_TOKENS``; and warnings for the operator."""
    if token_file:
        path = Path(token_file)
        try:
            text = path.read_text()
            mode = path.stat().st_mode
        except OSError as exc:
            msg = f"Cannot read the token file {token_file}: {exc.strerror}. Check the path and its permissions."
            raise ValueError(msg) from None
        warnings = []
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            warnings.append(f"the token file {token_file} can be read by other users; run: chmod 600 {token_file}")
        return parse_tokens(text, f"the token file {token_file}"), warnings
    if env.get("EVAL_RECEIVER_TOKENS", "").strip():
        return parse_tokens(env["EVAL_RECEIVER_TOKENS"], "EVAL_RECEIVER_TOKENS"), []
    return None, []


def tls_context(cert: str, key: str, client_ca: str | None = None) -> ssl.SSLContext:
    """A server context (TLS 1.2 or newer) for ``cert``/``key``; with ``client_ca``, clients must present a
    certificate signed by it (mutual TLS)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        msg = (f"Cannot load the TLS certificate {cert} with the key {key}: {exc}. Give a PEM certificate "
               "(chain) and its unencrypted PEM private key.")
        raise ValueError(msg) from None
    if client_ca:
        try:
            ctx.load_verify_locations(client_ca)
        except (OSError, ssl.SSLError) as exc:
            msg = f"Cannot load the client CA certificates {client_ca}: {exc}. Give a PEM file of CA certificates."
            raise ValueError(msg) from None
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def certificate_name(sock: socket.socket) -> str | None:
    """A sender name from a verified client certificate's common name (mutual TLS without tokens)."""
    cert = sock.getpeercert() if isinstance(sock, ssl.SSLSocket) else None
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return "cert-" + (re.sub(r"[^A-Za-z0-9_-]", "_", value)[:59] or "_")
    return None


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback address (``""`` and ``0.0.0.0`` are not)."""
    try:
        infos = socket.getaddrinfo(host or None, None, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


@dataclass(frozen=True)
class SenderLimits:
    """Per sender (token name; one shared ``anonymous`` sender without tokens); 0 switches a limit off."""

    requests_per_second: float = 1000.0
    bytes_per_minute: int = 1 << 30


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    level: float | None = None  # starts full
    stamp: float = field(default_factory=time.monotonic)

    def take(self, amount: float) -> float:
        """Take ``amount``; return 0, or the seconds to wait before it could be taken. An amount over the
        capacity is let through when the bucket is full (and leaves it in debt), so it is never refused forever."""
        now = time.monotonic()
        if self.level is None:
            self.level = self.capacity
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.per_second)
        self.stamp = now
        need = min(amount, self.capacity)
        if self.level >= need:
            self.level -= amount
            return 0.0
        return (need - self.level) / self.per_second


class RateLimiter:
    """Token buckets per sender: requests per second (one second of burst) and bytes per minute."""

    def __init__(self, limits: SenderLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._requests: dict[str, _Bucket] = {}
        self._bytes: dict[str, _Bucket] = {}

    def _take(self, buckets: dict[str, _Bucket], sender: str, amount: float, capacity: float,
              per_second: float) -> int:
        if per_second <= 0:
            return 0
        with self._lock:
            bucket = buckets.setdefault(sender, _Bucket(capacity, per_second))
            wait = bucket.take(amount)
        return math.ceil(wait) if wait else 0

    def request(self, sender: str) -> int:
        """0 when the sender may make a request now, else the seconds to wait (for ``Retry-After``)."""
        rps = self.limits.requests_per_second
        return self._take(self._requests, sender, 1, max(1.0, rps), rps)

    def transfer(self, sender: str, nbytes: int) -> int:
        """0 when the sender may send ``nbytes`` more now, else the seconds to wait."""
        bpm = self.limits.bytes_per_minute
        return self._take(self._bytes, sender, nbytes, bpm, bpm / 60)
