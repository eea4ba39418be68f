"""Contract: `eval-pipeline receive` refuses to listen on a public address without authentication and says
why; it documents every option with its default and environment variable; with tokens and TLS it serves,
and no token's text appears in its output, its logs or on disk; a write that fails (here: a file-size limit
hit mid-write) is answered 503 and leaves no temporary file, and the batches after it are stored."""

import os
import resource
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eval_pipeline import cli
from eval_pipeline_tests.support import receiver_client as rc

TOKEN = "s3cret-Tq8Wm2Xv5Lp0Ze7Ny4Kb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], env: dict[str, str], preexec: object = None) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    exe = str(Path(sys.executable).parent / "eval-pipeline")
    proc = subprocess.Popen([exe, "receive", "--port", str(port), "--min-free-disk", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=preexec)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    return proc.communicate(timeout=30)


def test_cli_receive_refuses_a_public_address_without_a_token(pipeline_env: dict[str, Path],
                                                              capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["receive", "--host", "0.0.0.0", "--port", "0"]) == 2  # noqa: S104 - refused before binding
    err = capsys.readouterr().err
    assert "Refusing to listen on 0.0.0.0 without authentication" in err and "--insecure-no-auth" in err


def test_cli_receive_refuses_half_a_tls_setup(pipeline_env: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["receive", "--port", "0", "--tls-cert", "cert.pem"]) == 2
    assert "Give both --tls-cert and --tls-key" in capsys.readouterr().err


def test_cli_receive_help_documents_every_option(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        cli.main(["receive", "--help"])
    out = capsys.readouterr().out
    text = " ".join(out[out.index("options:"):].split())
    for flag in ("--host", "--port", "--token-file", "--tls-cert", "--tls-key", "--tls-client-ca",
                 "--max-requests-per-second", "--max-bytes-per-minute", "--max-body", "--workers",
                 "--request-timeout", "--min-free-disk", "--log-level"):
        var = "EVAL_RECEIVER_" + flag.removeprefix("--").upper().replace("-", "_")
        after = text[text.index(f"{flag} "):]
        assert "(default: " in after[:700] and f"env {var})" in after[:700], flag
    assert "EVAL_RECEIVER_TOKENS" in text and "EVAL_LANDING_DIR" in out and "--insecure-no-auth" in text


def test_cli_receive_with_a_token_over_tls_keeps_the_token_secret(pipeline_env: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    pki = rc.make_pki(tmp_path / "pki")
    token_file = tmp_path / "tokens"
    token_file.write_text(f"eu-collector:{TOKEN}\n")
    token_file.chmod(0o600)
    proc, port = _start(["--token-file", str(token_file), "--tls-cert", str(pki["server_cert"]),
                         "--tls-key", str(pki["server_key"]), "--log-level", "debug"], dict(os.environ))
    client = ssl.create_default_context(cafile=str(pki["ca"]))
    body = rc.export_json(rc.span_json())
    try:
        ok = rc.post(port, body, {"Authorization": f"Bearer {TOKEN}"}, tls=client)
        near = rc.post(port, body, {"Authorization": f"Bearer {TOKEN[:-1]}x"}, tls=client)  # defect: one char off
        plain = rc.post(port, body, {"Authorization": f"Bearer {TOKEN}"}, tls=None)  # defect: no TLS
    finally:
        out, err = _stop(proc)
    assert (ok.status, near.status, plain.status) == (200, 401, 400)
    assert "this port speaks HTTPS" in plain.json()["message"]
    assert "https://127.0.0.1" in out and "eu-collector" in out and "Stopped: 1 batches, 1 spans" in out
    [landed] = [p for p in (pipeline_env["landing"] / "receiver").rglob("*") if p.is_file()]
    assert landed.name.endswith("-eu-collector.json")
    secret = TOKEN.encode()
    assert secret not in (out + err).encode() and secret[:-1] not in (out + err).encode()
    assert secret not in ok.body + near.body
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != token_file:
            assert secret not in path.read_bytes() and TOKEN not in str(path), path


def _limit_file_size() -> None:
    # Every write past 1 MiB fails with EFBIG, as a full disk fails a write halfway.
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


def test_cli_receive_cleans_up_a_failed_write(pipeline_env: dict[str, Path]) -> None:
    proc, port = _start([], dict(os.environ), preexec=_limit_file_size)
    try:
        too_big = rc.post(port, rc.export_json(rc.span_json(name="x" * (2 << 20))))  # defect: the write fails
        later = rc.post(port, rc.export_json(rc.span_json()))
    finally:
        out, err = _stop(proc)
    assert too_big.status == 503 and too_big.headers["retry-after"] == "5", err
    assert "could not be stored" in too_big.json()["message"]
    assert later.status == 200
    files = [p.name for p in (pipeline_env["landing"] / "receiver").rglob("*") if p.is_file()]
    assert len(files) == 1 and not files[0].endswith(".tmp")
    assert "could not store a batch" in err and "Stopped: 1 batches" in out
