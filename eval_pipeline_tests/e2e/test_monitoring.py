"""Contract: the OTLP/HTTP receiver accepts what OpenTelemetry exporters send (protobuf and JSON, gzip),
answers per the OTLP spec (partial success, 400 / 413 / 415, 503 with Retry-After under back-pressure),
writes each batch atomically into the landing zone; the landing sensor requests runs for the days new
files touch; end to end, spans exported by the real OpenTelemetry SDK over HTTP get judge scores."""

import datetime as dt
import gzip
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import dagster as dg
import duckdb
import orjson
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from eval_pipeline import synthetic
from eval_pipeline.definitions import defs
from eval_pipeline.lib import receiver
from eval_pipeline.resources import LandingZone
from eval_pipeline_tests.support import otlp_builders as b


@pytest.fixture
def running(tmp_path: Path):
    server = receiver.serve(receiver.ReceiverConfig(landing_dir=tmp_path / "landing"), port=0)
    yield server
    server.shutdown()
    server.server_close()


def _post(url: str, body: bytes, ctype: str, encoding: str | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": ctype})
    if encoding:
        req.add_header("Content-Encoding", encoding)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _landed(server: receiver.Receiver) -> list[Path]:
    return sorted(p for p in server.config.landing_dir.rglob("*") if p.is_file())


def _request_json(n_bad: int = 0) -> bytes:
    t = dt.datetime(2026, 11, 20, 9, 0)
    spans = [b.span(b.new_trace_id(), b.new_span_id(), "chat gpt-4o", t, attributes={"gen_ai.operation.name": "chat"})]
    spans += [{"traceId": "nothex", "spanId": "xx", "name": "broken"}] * n_bad  # defect: unreadable ids
    return orjson.dumps(b.request(spans))


def test_receiver_accepts_json_and_gzip_and_writes_atomically(running: receiver.Receiver) -> None:
    status, _, body = _post(running.url, _request_json(), receiver.JSON)
    assert (status, body) == (200, b"{}")
    status, _, _ = _post(running.url, gzip.compress(_request_json()), receiver.JSON, "gzip")
    assert status == 200
    files = _landed(running)
    assert len(files) == 2 and all(f.suffix == ".json" and "receiver" in f.parts for f in files)
    assert running.accepted_spans == 2


def test_receiver_reports_partial_success(running: receiver.Receiver) -> None:
    status, _, body = _post(running.url, _request_json(n_bad=2), receiver.JSON)
    assert status == 200
    partial = json.loads(body)["partialSuccess"]
    assert partial["rejectedSpans"] == "2" and "2 spans rejected: traceId is neither" in partial["errorMessage"]
    [landed] = _landed(running)  # the good span is stored, without the rejected ones
    assert [s["name"] for s in json.loads(landed.read_bytes())["resourceSpans"][0]["scopeSpans"][0]["spans"]] == [
        "chat gpt-4o"]


@pytest.mark.parametrize(("body", "ctype", "expected"), [
    (b"{not json", receiver.JSON, 400),  # defect: malformed JSON
    (b'{"resourceLogs": []}', receiver.JSON, 400),  # defect: a logs export
    (b"\x07garbage", receiver.PROTOBUF, 400),  # defect: not protobuf
    (b"hello", "text/plain", 415),  # defect: wrong content type
])
def test_receiver_rejects_bad_requests_and_writes_nothing(running: receiver.Receiver, body: bytes, ctype: str,
                                                          expected: int) -> None:
    status, _, payload = _post(running.url, body, ctype)
    assert status == expected and payload
    assert _landed(running) == []


def test_receiver_back_pressure_and_size_limit(tmp_path: Path) -> None:
    full = receiver.ReceiverConfig(landing_dir=tmp_path / "l1", min_free_bytes=1 << 60)  # "disk full"
    server = receiver.serve(full, port=0)
    try:
        status, headers, _ = _post(server.url, _request_json(), receiver.PROTOBUF)
        assert status == 503 and headers["Retry-After"] == "5"
        assert _landed(server) == []
    finally:
        server.shutdown()
        server.server_close()
    small = receiver.ReceiverConfig(landing_dir=tmp_path / "l2", max_body_bytes=10)
    server = receiver.serve(small, port=0)
    try:
        assert _post(server.url, _request_json(), receiver.JSON)[0] == 413
    finally:
        server.shutdown()
        server.server_close()


def _sensor_ticks(landing: Path, cursor: str | None = None) -> tuple[list[str], str | None]:
    d = defs()
    sensor = d.resolve_sensor_def("landing_sensor")
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=d.get_repository_def(),
                                      resources={"landing": LandingZone(path=str(landing))})
        result = sensor.evaluate_tick(ctx)
    return [r.partition_key for r in result.run_requests], result.cursor


def test_landing_sensor_requests_the_days_new_files_touch(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "receiver" / "2026-11-20").mkdir(parents=True)
    (landing / "receiver" / "2026-11-20" / "a.json").write_bytes(_request_json())
    flat = landing / "flat.json"
    flat.write_bytes(_request_json())
    day_ns = b.ns(dt.datetime(2026, 11, 21, 12, 0))
    os.utime(flat, ns=(day_ns, day_ns))
    days, cursor = _sensor_ticks(landing)
    assert days == ["2026-11-20"]  # both files hold spans of 11-20: the day of the spans, not of the arrival
    assert _sensor_ticks(landing, cursor)[0] == []  # nothing new since


@pytest.mark.slow
def test_otel_sdk_over_http_to_receiver_then_sensor_then_scores(pipeline_env: dict[str, Path]) -> None:
    server = receiver.serve(receiver.ReceiverConfig(landing_dir=pipeline_env["landing"]), port=0)
    try:
        provider = TracerProvider(resource=Resource.create({"service.name": "live-agent"}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=server.url)))
        tracer = provider.get_tracer("live")
        with tracer.start_as_current_span("invoke_agent live") as root:
            root.set_attribute("gen_ai.operation.name", "invoke_agent")
            root.set_attribute("input.value", "Is the live pipeline working?")
            root.set_attribute("output.value", "Yes, it is.")
            with tracer.start_as_current_span("execute_tool status_page") as tool:
                tool.set_attribute("gen_ai.operation.name", "execute_tool")
                tool.set_attribute("gen_ai.tool.name", "status_page")
            trace_id = format(root.get_span_context().trace_id, "032x")
        provider.shutdown()  # flushes the exporter: an HTTP POST of protobuf to the receiver
    finally:
        server.shutdown()
        server.server_close()
    assert server.accepted_spans == 2

    days, _ = _sensor_ticks(pipeline_env["landing"])
    assert days  # the receiver's folder names the day of receipt
    job = defs().resolve_job_def("daily_eval")
    with dg.instance_for_test() as instance:
        for day in days:
            assert job.execute_in_process(partition_key=day, instance=instance).success
    with duckdb.connect(str(pipeline_env["warehouse"]), read_only=True) as con:
        scores = con.execute("SELECT judge, verdict FROM judge_scores WHERE trace_id = ?", [trace_id]).fetchall()
        traces = con.execute("SELECT request, tool_path FROM masked_traces WHERE trace_id = ?", [trace_id]).fetchall()
    assert traces == [("Is the live pipeline working?", ["status_page"])]
    assert ("no_error", "pass") in scores and ("non_empty_response", "pass") in scores


@pytest.mark.slow
def test_live_runs_sample_llm_judging_and_code_judges_see_everything(pipeline_env: dict[str, Path],
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("monitoring:\n  live_judge_sample_rate: 0.5\n")
    monkeypatch.setenv("EVAL_CONFIG", str(config))
    synthetic.generate(pipeline_env["landing"], dt.date(2026, 11, 20), 1, sessions_per_day=12, seed=5)
    sensor = defs().resolve_sensor_def("landing_sensor")
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, repository_def=defs().get_repository_def(),
                                      resources={"landing": LandingZone(path=str(pipeline_env["landing"]))})
        [request] = sensor.evaluate_tick(ctx).run_requests
        assert request.tags["eval/trigger"] == "landing_sensor"
        job = defs().resolve_job_def("daily_eval")
        assert job.execute_in_process(partition_key=request.partition_key, instance=instance,
                                      tags=request.tags).success
    with duckdb.connect(str(pipeline_env["warehouse"]), read_only=True) as con:
        rows = dict(con.execute("SELECT judge || ':' || coalesce(unknown_reason, verdict), count(*) FROM judge_scores "
                                "GROUP BY ALL").fetchall())
        records = con.execute("SELECT count(*) FROM eval_dataset").fetchall()[0][0]
    sampled, waiting = rows.get("relevance:no_model_configured", 0), rows.get("relevance:not_sampled", 0)
    assert sampled + waiting == records and sampled > 0 and waiting > 0
    assert 0.25 < sampled / records < 0.75
    assert sum(v for k, v in rows.items() if k.startswith("no_error:")) == records  # code judges: every record
