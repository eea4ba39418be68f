"""Receiver benchmark, on loopback only.

1. Throughput: a load generator in a second process posts OTLP protobuf batches to the receiver from
   several connections; prints spans/s accepted and batches/s.
2. Freshness: a small batch is exported, then the landing sensor ticks and the run it requests is
   executed; prints the delay from receipt to judge scores visible in the warehouse.

    .venv/bin/python bench/receive.py --seconds 15 --connections 8 --spans-per-batch 200
"""

import argparse
import datetime as dt
import http.client
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PeakRSS, gib  # noqa: E402


def _batch(n_spans: int, seed: int) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "bench-agent"
    spans = rs.scope_spans.add().spans
    now = time.time_ns()
    for i in range(n_spans):
        s = spans.add()
        s.trace_id = (seed * 1_000_003 + i // 5).to_bytes(16, "big")
        s.span_id = (seed * 1_000_003 + i + 1).to_bytes(8, "big")
        s.name = "chat gpt-4o" if i % 5 else "invoke_agent bench"
        s.start_time_unix_nano, s.end_time_unix_nano = now, now + 1_000_000
        a = s.attributes.add()
        a.key, a.value.string_value = "gen_ai.operation.name", "chat" if i % 5 else "invoke_agent"
        a = s.attributes.add()
        a.key, a.value.string_value = "gen_ai.input.messages", '[{"role":"user","parts":[{"type":"text","content":"hello there, how are you?"}]}]'
    return req.SerializeToString()


def _load(port: int, seconds: float, connections: int, spans_per_batch: int, out: multiprocessing.Queue) -> None:
    body = _batch(spans_per_batch, 1)
    stop = time.monotonic() + seconds
    counts = [0] * connections
    errors = [0] * connections

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                counts[k] += 1
            else:
                errors[k] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((sum(counts), sum(errors), time.monotonic() - t0))


def throughput(args: argparse.Namespace, tmp: Path) -> None:
    from eval_pipeline.lib import receiver

    server = receiver.serve(receiver.ReceiverConfig(landing_dir=tmp / "landing-load"), port=0)
    port = server.server_address[1]
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    with PeakRSS() as rss:
        gen = ctx.Process(
            target=_load, args=(port, args.seconds, args.connections, args.spans_per_batch, q))
        gen.start()
        batches, errors, elapsed = q.get()
        gen.join()
    server.shutdown()
    server.server_close()
    print(f"throughput: {batches} batches x {args.spans_per_batch} spans in {elapsed:.1f} s from "
          f"{args.connections} connections = {batches * args.spans_per_batch / elapsed:,.0f} spans/s accepted "
          f"({batches / elapsed:,.0f} batches/s, {errors} refused), peak RSS {gib(rss.peak)} (receiver + generator)")


def freshness(tmp: Path) -> None:
    import dagster as dg
    import duckdb

    from eval_pipeline.definitions import defs
    from eval_pipeline.lib import receiver
    from eval_pipeline.resources import LandingZone

    landing = tmp / "landing-fresh"
    os.environ.update(EVAL_LANDING_DIR=str(landing), EVAL_WAREHOUSE=str(tmp / "fresh.duckdb"),
                      EVAL_MASKING_KEY="bench")
    d = defs()
    job = d.resolve_job_def("daily_eval")
    sensor = d.resolve_sensor_def("landing_sensor")
    server = receiver.serve(receiver.ReceiverConfig(landing_dir=landing), port=0)
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    with dg.instance_for_test() as instance:
        t0 = time.monotonic()
        conn.request("POST", "/v1/traces", _batch(50, 7), {"Content-Type": "application/x-protobuf"})
        assert conn.getresponse().status == 200
        ctx = dg.build_sensor_context(instance=instance, repository_def=d.get_repository_def(),
                                      resources={"landing": LandingZone(path=str(landing))})
        requests = sensor.evaluate_tick(ctx).run_requests
        t_sensor = time.monotonic() - t0
        for r in requests:
            job.execute_in_process(partition_key=r.partition_key, instance=instance,
                                   run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        with duckdb.connect(str(tmp / "fresh.duckdb"), read_only=True) as con:
            scores = con.execute("SELECT count(*) FROM judge_scores").fetchall()[0][0]
        elapsed = time.monotonic() - t0
    server.shutdown()
    server.server_close()
    print(f"freshness: 50 spans received -> sensor tick requested {len(requests)} run(s) in {t_sensor:.2f} s -> "
          f"{scores} judge scores visible {elapsed:.1f} s after receipt (plus up to the sensor interval, 60 s)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--spans-per-batch", type=int, default=200)
    args = p.parse_args()
    print(f"machine: {os.cpu_count()} cores; load on 127.0.0.1 only; started {dt.datetime.now(dt.UTC):%H:%M} UTC")
    with tempfile.TemporaryDirectory(prefix="bench-receive-") as tmp:
        throughput(args, Path(tmp))
        freshness(Path(tmp))


if __name__ == "__main__":
    main()
