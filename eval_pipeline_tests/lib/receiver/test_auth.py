"""Contract: the receiver lets in only who should. Senders need a known bearer token (401 and nothing written
otherwise), its name is recorded with each batch and its text nowhere; TLS works with the real OpenTelemetry
SDK exporter verifying a certificate, and with client certificates (mutual TLS); each sender has its own
rate limits (429 + Retry-After) that leave the others alone; a public address without authentication is
refused with a clear message."""

import ssl
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from eval_pipeline.lib import ingest, receiver
from eval_pipeline_tests.support import receiver_client as rc

ALPHA = "alpha-7Qk2v9XfLr3pN8sT1wYb"
BETA = "beta-Zm4Hc6Jd0Ug5Ea2Ro9Ti"
TOKENS = receiver.parse_tokens(f"# senders\nalpha: {ALPHA}\nbeta:{BETA}\n", "the test tokens")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_receiver_names_the_sender_of_a_known_token(tmp_path: Path) -> None:
    with rc.running(tmp_path, tokens=TOKENS) as server:
        port = server.server_address[1]
        assert rc.post(port, rc.export_json(rc.span_json()), _bearer(ALPHA)).status == 200
        assert rc.post(port, rc.export_json(rc.span_json()), {"Authorization": f"bearer   {BETA} "}).status == 200
        names = sorted(p.name.rsplit("-", 1)[-1] for p in rc.landed(server.config))
    assert names == ["alpha.json", "beta.json"]


@pytest.mark.parametrize("headers", [
    {},  # defect: no token
    _bearer("wrong-token-0123456789abcdef"),  # defect: unknown token
    _bearer(ALPHA.upper()),  # defect: right letters, wrong case
    _bearer(ALPHA[:-1]),  # defect: a prefix of a real token
    {"Authorization": f"Basic {ALPHA}"},  # defect: another scheme
    {"Authorization": ALPHA},  # defect: no scheme
], ids=["none", "unknown", "case", "prefix", "basic", "bare"])
def test_receiver_answers_401_and_writes_nothing_without_a_known_token(tmp_path: Path, headers: dict) -> None:
    with rc.running(tmp_path, tokens=TOKENS) as server:
        answer = rc.post(server.server_address[1], rc.export_json(rc.span_json()), headers)
        assert answer.status == 401 and answer.headers["www-authenticate"].startswith("Bearer")
        assert answer.json()["code"] == 16  # google.rpc.Code UNAUTHENTICATED
        assert rc.landed(server.config) == []
    assert ALPHA.encode() not in answer.body and ALPHA[:-1].encode() not in answer.body


def test_receiver_refuses_before_the_body_is_sent(tmp_path: Path) -> None:
    """A client that asks ``Expect: 100-continue`` is refused without sending its body."""
    with rc.running(tmp_path, tokens=TOKENS) as server:
        head = rc.request(b"", {"Content-Length": str(50 << 20), "Expect": "100-continue"}, length=False)
        answer = rc.send(server.server_address[1], head, timeout=5)
        assert answer.status == 401


@pytest.mark.parametrize(("text", "problem"), [
    ("alpha:short", "at least 16 characters"),
    ("alpha:has spaces in the token text!", "not a usable bearer token"),
    ("bad name!:0123456789abcdefXYZ", "token name"),
    (f"a:{ALPHA}\nb:{ALPHA}", "repeats a name or a token"),
    (f"a:{ALPHA}\na:{BETA}", "repeats a name or a token"),
    ("# nothing but a comment\n", "holds no tokens"),
])
def test_tokens_refuse_weak_or_repeated_entries_without_quoting_them(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as err:
        receiver.parse_tokens(text, "the token file t.txt")
    assert ALPHA not in str(err.value) and "short" not in str(err.value).replace("shorter", "")


def test_tokens_without_names_are_numbered() -> None:
    tokens = receiver.parse_tokens(f"{ALPHA},{BETA}", "EVAL_RECEIVER_TOKENS")
    assert tokens.names == ["token1", "token2"] and tokens.sender(f"Bearer {BETA}") == "token2"


def _finished_spans(n: int) -> list:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "tls-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tls")
    for i in range(n):
        with tracer.start_as_current_span(f"invoke_agent {i}") as span:
            span.set_attribute("gen_ai.operation.name", "invoke_agent")
    return list(memory.get_finished_spans())


def test_otel_sdk_exporter_over_tls_with_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # requests lets these override the exporter's certificate_file (psf/requests#3829); see the README
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    pki = rc.make_pki(tmp_path / "pki")
    tls = receiver.tls_context(str(pki["server_cert"]), str(pki["server_key"]))
    spans = _finished_spans(3)
    with rc.running(tmp_path / "landing", tokens=TOKENS, tls=tls) as server:
        assert server.url.startswith("https://127.0.0.1:")

        def export(token: str | None, ca: Path = pki["ca"]) -> SpanExportResult:
            # a certificate that fails to verify is retried as transient until the timeout
            exporter = OTLPSpanExporter(endpoint=server.url, certificate_file=str(ca),
                                        headers=_bearer(token) if token else None, timeout=1)
            try:
                return exporter.export(spans)
            finally:
                exporter.shutdown()

        assert export(ALPHA) == SpanExportResult.SUCCESS
        [landed] = rc.landed(server.config)
        assert export(None) == SpanExportResult.FAILURE  # defect: no token
        assert export("wrong-token-0123456789abcdef") == SpanExportResult.FAILURE  # defect: wrong token
        assert export(ALPHA, ca=tmp_path / "pki" / "server.pem") == SpanExportResult.FAILURE  # defect: CA unknown
        assert rc.landed(server.config) == [landed]
    assert landed.name.endswith("-alpha.pb")
    parsed = ingest.parse_file(str(landed), str(tmp_path))
    assert parsed.span_count == 3 and parsed.problems == []


def test_receiver_with_client_certificates_names_the_sender_by_certificate(tmp_path: Path) -> None:
    pki = rc.make_pki(tmp_path / "pki")
    tls = receiver.tls_context(str(pki["server_cert"]), str(pki["server_key"]), str(pki["ca"]))
    client = ssl.create_default_context(cafile=str(pki["ca"]))
    body = rc.export_json(rc.span_json())
    with rc.running(tmp_path / "landing", tls=tls) as server:
        port = server.server_address[1]
        with pytest.raises((ssl.SSLError, ConnectionError)):
            rc.post(port, body, tls=client)  # defect: no client certificate
        client.load_cert_chain(str(pki["client_cert"]), str(pki["client_key"]))
        assert rc.post(port, body, tls=client).status == 200
        [landed] = rc.landed(server.config)
    assert landed.name.endswith("-cert-collector-eu.json")


def test_receiver_limits_each_sender_on_its_own(tmp_path: Path) -> None:
    body = rc.export_json(rc.span_json())
    limits = receiver.SenderLimits(requests_per_second=2, bytes_per_minute=100 * len(body))
    with rc.running(tmp_path, tokens=TOKENS, limits=limits) as server:
        port = server.server_address[1]
        alpha = [rc.post(port, body, _bearer(ALPHA)) for _ in range(5)]  # defect: a noisy sender
        assert [a.status for a in alpha[:2]] == [200, 200] and {a.status for a in alpha[2:]} == {429}
        assert all(int(a.headers["retry-after"]) >= 1 for a in alpha[2:])
        assert rc.post(port, body, _bearer(BETA)).status == 200  # the other sender is not slowed down
        assert len(rc.landed(server.config)) == 3


def test_receiver_limits_bytes_per_minute(tmp_path: Path) -> None:
    body = rc.export_json(rc.span_json())
    limits = receiver.SenderLimits(requests_per_second=0, bytes_per_minute=int(len(body) * 1.5))
    with rc.running(tmp_path, tokens=TOKENS, limits=limits) as server:
        port = server.server_address[1]
        assert rc.post(port, body, _bearer(ALPHA)).status == 200
        over = rc.post(port, body, _bearer(ALPHA))  # defect: over its bytes for this minute
        assert over.status == 429 and 1 <= int(over.headers["retry-after"]) <= 60
        assert rc.post(port, body, _bearer(BETA)).status == 200


def test_receiver_refuses_a_public_address_without_authentication(tmp_path: Path) -> None:
    config = receiver.ReceiverConfig(landing_dir=tmp_path)
    with pytest.raises(receiver.ExposedError, match="Refusing to listen on 0.0.0.0 without authentication") as err:
        receiver.Receiver(("0.0.0.0", 0), config)  # noqa: S104 - refused before anything binds
    assert "--token-file" in str(err.value) and "--insecure-no-auth" in str(err.value)
