"""Contract: `eval-pipeline generate` writes OTLP files, `eval-pipeline demo` runs the whole chain on
sample traffic and reports what landed, `eval-pipeline run` runs a range, and bad arguments get a
clear message."""

import datetime as dt
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from eval_pipeline import cli
from eval_pipeline_tests.support.receiver_client import export_json, span_json


def test_cli_generate_writes_otlp_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["generate", "--out", str(tmp_path), "--start", "2026-11-20", "--days", "1",
                     "--sessions", "6", "--no-malformed"]) == 0
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and {p.suffix for p in files} >= {".json", ".pb"}
    assert "'malformed_files': 0" in capsys.readouterr().out


def test_cli_rejects_a_bad_date(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        cli.main(["generate", "--out", "x", "--start", "20/11/2026"])
    assert "is not a date; use YYYY-MM-DD" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_demo_runs_the_chain_and_reports(pipeline_env: dict[str, Path], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    before = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    assert cli.main(["demo", "--days", "1", "--sessions", "8"]) == 0
    out = capsys.readouterr().out
    after = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    assert f"daily_eval {before}: ok" in out or f"daily_eval {after}: ok" in out  # midnight may pass
    assert "raw_traces" in out and "judge_scores" in out and "no_error" in out
    assert (tmp_path / "home" / "dagster.yaml").is_file()
    report = Path(out.split("Report of ")[-1].split(": ", 1)[1].splitlines()[0])  # the closing lines name it
    assert report.is_file() and report.parent.parent == pipeline_env["reports"]
    assert out.strip().splitlines()[-1].startswith("OK: 1 day(s) ran")
    assert list(pipeline_env["landing"].glob("sample-*"))
    # again: the sample is not generated twice, the day is rebuilt
    assert cli.main(["demo", "--days", "1", "--sessions", "8"]) == 0
    assert "already in" in capsys.readouterr().out


def test_cli_run_rejects_an_empty_range(capsys: pytest.CaptureFixture, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert cli.main(["run", "2026-11-20", "2026-11-19"]) == 2
    assert "before the start day" in capsys.readouterr().err


def test_cli_receive_serves_until_interrupted(pipeline_env: dict[str, Path]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = str(Path(sys.executable).parent / "eval-pipeline")
    proc = subprocess.Popen([exe, "receive", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/traces", data=export_json(span_json()),
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=2) as resp:
                    assert resp.status == 200
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
                time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/v1/traces" in out and "Stopped: 1 batches" in out
    assert list((pipeline_env["landing"] / "receiver").rglob("*.json"))
