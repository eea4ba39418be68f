"""Test support for the OTLP/HTTP receiver: a raw HTTP client (any bytes, any headers, over TLS or not),
a receiver started for one test, and a small PKI (CA, server and client certificates) made on the spot."""

import contextlib
import datetime as dt
import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from eval_pipeline.lib import receiver
from eval_pipeline_tests.support import otlp_builders as b


@dataclass
class Answer:
    status: int  # 0: the connection ended without an HTTP status
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return orjson.loads(self.body)


def send(port: int, raw: bytes, *, tls: ssl.SSLContext | None = None, timeout: float = 10.0) -> Answer:
    """Send ``raw`` (a whole request, as bytes) and read one answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as plain:
        sock = tls.wrap_socket(plain, server_hostname="localhost") if tls else plain
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(raw)  # the receiver may answer (and stop reading) before the body is all sent
        return read_answer(sock)


def read_answer(sock: socket.socket) -> Answer:
    resp = http.client.HTTPResponse(sock)
    try:
        resp.begin()
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return Answer(0, {}, b"")
    return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())


def request(body: bytes = b"", headers: dict[str, str] | None = None, *, method: str = "POST",
            path: str = "/v1/traces", length: bool = True) -> bytes:
    """A request as bytes: Content-Type JSON and the right Content-Length unless ``headers`` say otherwise."""
    h = {"Host": "localhost", "Content-Type": receiver.JSON}
    if length:
        h["Content-Length"] = str(len(body))
    h.update(headers or {})
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items() if v is not None)
    return head.encode() + b"\r\n" + body


def post(port: int, body: bytes, headers: dict[str, str] | None = None, **kw: object) -> Answer:
    return send(port, request(body, headers), **kw)


def span_json(name: str = "chat gpt-4o", start: dt.datetime | None = None, **fields: object) -> dict:
    """A valid OTLP/JSON span starting an hour ago (inside the receiver's window), with ``fields`` replaced."""
    start = start or dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1)
    s = b.span(b.new_trace_id(), b.new_span_id(), name, start, attributes={"gen_ai.operation.name": "chat"})
    s.update(fields)
    return s


def export_json(*spans: object, service: str = "agent") -> bytes:
    return orjson.dumps(b.request(list(spans), service))


def landed(config: receiver.ReceiverConfig) -> list[Path]:
    return sorted(p for p in config.landing_dir.rglob("*") if p.is_file())


@contextlib.contextmanager
def running(landing: Path, **config: object) -> Iterator[receiver.Receiver]:
    server = receiver.serve(receiver.ReceiverConfig(landing_dir=landing, **config), port=0)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def make_pki(folder: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate (CN collector-eu)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    folder.mkdir(parents=True, exist_ok=True)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def issue(cn: str, key: ec.EllipticCurvePrivateKey, issuer: tuple | None, ca: bool,
              san: list | None = None, usage: list | None = None) -> x509.Certificate:
        builder = (x509.CertificateBuilder().subject_name(name(cn))
                   .issuer_name(issuer[0].subject if issuer else name(cn)).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        if usage:
            builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                critical=True)
        return builder.sign(issuer[1] if issuer else key, hashes.SHA256())

    def write(stem: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
        (folder / f"{stem}.key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (folder / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = issue("eval-pipeline test CA", ca_key, None, ca=True)
    write("ca", ca_key, ca)
    server_key = ec.generate_private_key(ec.SECP256R1())
    write("server", server_key, issue("localhost", server_key, (ca, ca_key), ca=False,
                                      san=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
                                      usage=[ExtendedKeyUsageOID.SERVER_AUTH]))
    client_key = ec.generate_private_key(ec.SECP256R1())
    write("client", client_key, issue("collector-eu", client_key, (ca, ca_key), ca=False,
                                      usage=[ExtendedKeyUsageOID.CLIENT_AUTH]))
    return {
        "ca": folder / "ca.pem", "server_cert": folder / "server.pem", "server_key": folder / "server.key",
        "client_cert": folder / "client.pem", "client_key": folder / "client.key"}
