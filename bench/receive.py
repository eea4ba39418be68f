"""Receiver benchmark, on loopback only.

1. Throughput: a load generator in a second process posts OTLP protobuf batches to the receiver from
   several kept-alive connections; prints spans/s accepted and batches/s (per-sender limits off: one
   anonymous sender would otherwise be held to them). With --tls, over HTTPS with a bearer token.
2. Load: many concurrent clients (200 by default), each posting batches over its own connections; prints
   how every request was answered (200 / 503 / anything else), connection resets and other failures,
   and latency percentiles; once with the default pool and once with a deliberately small one, so that
   back-pressure (503 + Retry-After) shows.
3. Freshness: a small batch is exported, then the landing sensor ticks and the run it requests is
   executed; prints the delay from receipt to judge scores visible in the warehouse.

    .venv/bin/python bench/receive.py --seconds 15 --connections 8 --spans-per-batch 200 --clients 200
"""

import argparse
import datetime as dt
import http.client
import multiprocessing
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
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


def _connection(port: int, cafile: str | None) -> http.client.HTTPConnection:
    if cafile:
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=60,
                                           context=ssl.create_default_context(cafile=cafile))
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def _load(port: int, seconds: float, connections: int, spans_per_batch: int, headers: dict, cafile: str | None,
          out: multiprocessing.Queue) -> None:
    body = _batch(spans_per_batch, 1)
    stop = time.monotonic() + seconds
    counts = [0] * connections
    errors = [0] * connections

    def worker(k: int) -> None:
        conn = _connection(port, cafile)
        while time.monotonic() < stop:
            conn.request("POST", "/v1/traces", body, headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                counts[k] += 1
            else:
                errors[k] += 1
        conn.close()

    elapsed = _run_all([threading.Thread(target=worker, args=(k,)) for k in range(connections)])
    out.put((sum(counts), sum(errors), elapsed))


def _run_all(threads: list[threading.Thread]) -> float:
    """Start the threads, wait for them all; the seconds it took."""
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0


def _certificate(tmp: Path) -> tuple[str, str]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


def throughput(args: argparse.Namespace, tmp: Path) -> None:
    from eval_pipeline.lib import receiver

    headers = {"Content-Type": "application/x-protobuf"}
    config = receiver.ReceiverConfig(landing_dir=tmp / "landing-load", limits=receiver.SenderLimits(0, 0))
    cafile = None
    if args.tls:
        token = "bench-" + "x" * 26
        cafile, key = _certificate(tmp)
        config.tls = receiver.tls_context(cafile, key)
        config.tokens = receiver.parse_tokens(f"bench:{token}", "the bench token")
        headers["Authorization"] = f"Bearer {token}"
    server = receiver.serve(config, port=0)
    port = server.server_address[1]
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    with PeakRSS() as rss:
        gen = ctx.Process(
            target=_load, args=(port, args.seconds, args.connections, args.spans_per_batch, headers, cafile, q))
        gen.start()
        batches, errors, elapsed = q.get()
        gen.join()
    server.shutdown()
    server.server_close()
    print(f"throughput{' (TLS + token)' if args.tls else ''}: {batches} batches x {args.spans_per_batch} spans in "
          f"{elapsed:.1f} s from {args.connections} connections = {batches * args.spans_per_batch / elapsed:,.0f} "
          f"spans/s accepted ({batches / elapsed:,.0f} batches/s, {errors} refused), peak RSS {gib(rss.peak)} "
          "(receiver + generator)")


def _clients(port: int, clients: int, requests: int, spans_per_batch: int, out: multiprocessing.Queue) -> None:
    """Each client posts ``requests`` batches, reconnecting whenever the receiver closes the connection."""
    body = _batch(spans_per_batch, 2)
    outcomes: Counter = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client() -> None:
        conn = None
        start.wait()
        for _ in range(requests):
            t0 = time.perf_counter()
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
                resp = conn.getresponse()
                resp.read()
                outcome = str(resp.status) if resp.status != 503 or resp.getheader("Retry-After") else "503 bare"
                if resp.getheader("Connection") == "close":
                    conn.close()
                    conn = None
            except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected) as exc:
                outcome, conn = f"reset ({type(exc).__name__})", None
            except OSError as exc:
                outcome, conn = f"failed ({type(exc).__name__})", None
            with lock:
                outcomes[outcome] += 1
                latencies.append(time.perf_counter() - t0)

    elapsed = _run_all([threading.Thread(target=client) for _ in range(clients)])
    out.put((dict(outcomes), sorted(latencies), elapsed))


def load(args: argparse.Namespace, tmp: Path, label: str, **config: object) -> None:
    from eval_pipeline.lib import receiver

    landing = tmp / f"landing-{label.split()[0]}"
    server = receiver.serve(receiver.ReceiverConfig(landing_dir=landing, limits=receiver.SenderLimits(0, 0),
                                                    **config), port=0)
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    gen = ctx.Process(target=_clients, args=(server.server_address[1], args.clients, args.requests,
                                             args.spans_per_batch // 4, q))
    gen.start()
    outcomes, latencies, elapsed = q.get()
    gen.join()
    server.shutdown()
    server.server_close()
    stored = sum(1 for p in landing.rglob("*.pb"))
    n = len(latencies)
    pct = {p: latencies[min(n - 1, int(p / 100 * n))] * 1000 for p in (50, 99)}
    answered = outcomes.get("200", 0) + outcomes.get("503", 0)
    print(f"load, {label}: {args.clients} concurrent clients x {args.requests} requests in {elapsed:.1f} s: "
          f"{', '.join(f'{k}: {v}' for k, v in sorted(outcomes.items()))}; {answered / n:.1%} answered 200 or "
          f"503 + Retry-After, {stored} batches stored (= the 200s: {stored == outcomes.get('200', 0)}); latency "
          f"p50 {pct[50]:.0f} ms, p99 {pct[99]:.0f} ms, max {latencies[-1] * 1000:.0f} ms; "
          f"{server.stats.total['internal_errors']} internal errors")


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
    p.add_argument("--tls", action="store_true", help="throughput over HTTPS with a bearer token")
    p.add_argument("--clients", type=int, default=200, help="concurrent clients in the load test")
    p.add_argument("--requests", type=int, default=20, help="requests per client in the load test")
    p.add_argument("--only", choices=["throughput", "load", "freshness"], default=None)
    args = p.parse_args()
    print(f"machine: {os.cpu_count()} cores; load on 127.0.0.1 only; started {dt.datetime.now(dt.UTC):%H:%M} UTC")
    with tempfile.TemporaryDirectory(prefix="bench-receive-") as tmp:
        if args.only in (None, "throughput"):
            throughput(args, Path(tmp))
        if args.only in (None, "load"):
            load(args, Path(tmp), "default pool (16 workers)")
            load(args, Path(tmp), "small pool (2 workers, 0.1 s queue wait)", workers=2, max_queue_wait_s=0.1)
        if args.only in (None, "freshness"):
            freshness(Path(tmp))


if __name__ == "__main__":
    main()
