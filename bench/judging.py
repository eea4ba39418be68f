"""Judging benchmark: N records through the relevance judge, via litellm, against the scripted
OpenAI-compatible server (in its own process) answering after a fixed latency, by ``score_day`` (what the
judge_scores asset runs: cache lookup, calls, rows).

Prints calls/s and its ratio to the bound (concurrency / latency: what a client that adds no overhead
would reach), next to a bare aiohttp client posting the same number of requests to the same server at
the same concurrency (what this machine and server allow at all), then runs the same records again with the judgement cache in a DuckDB warehouse, which
must make zero calls (the server's own request count is the witness). design.md section 7 asks for
>= 90 % of the bound.

    .venv/bin/python bench/judging.py --records 2000 --latency 0.2 --concurrency 32
"""

import argparse
import datetime as dt
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PeakRSS, gib  # noqa: E402

# The package's __init__ sets LITELLM_LOCAL_MODEL_COST_MAP before litellm is imported (no price-map fetch).
from eval_pipeline.lib import judging, warehouse  # noqa: E402
from eval_pipeline.lib.config import Config, Judging  # noqa: E402
from eval_pipeline.lib.warehouse import PROJECT_ROOT, insert_rows  # noqa: E402

DAY = dt.date(2026, 11, 20)


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "eval_pipeline_tests.support.openai_server", "--delay", str(latency)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )
    base_url = proc.stdout.readline().strip()  # type: ignore[union-attr]
    if not base_url.startswith("http://127.0.0.1:"):
        proc.kill()
        msg = "The scripted server did not start; run from the repo root with the project's virtualenv."
        raise RuntimeError(msg)
    return proc, base_url


def server_requests(base_url: str) -> int:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/stats", timeout=5) as r:  # noqa: S310 - 127.0.0.1
        return json.load(r)["requests"]


def bare_client(base_url: str, n: int, concurrency: int) -> float:
    """Calls/s of a bare aiohttp client: no litellm, no parsing beyond JSON."""
    import asyncio

    import aiohttp

    async def go() -> float:
        slots = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession() as session:
            async def one(i: int) -> None:
                async with slots, session.post(f"{base_url}/chat/completions", json={
                        "model": "bench", "messages": [{"role": "user", "content": f"reference {i}"}]}) as r:
                    await r.json()

            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(n)))
            return n / (time.perf_counter() - started)

    return asyncio.run(go())


def records(n: int) -> list[dict]:
    return [{"trace_id": f"{i:032x}", "request": f"Where is my order number {i}?",
             "response": f"Order {i} left the warehouse yesterday and arrives on Friday.", "status": "ok"}
            for i in range(n)]


def run(recs: list[dict], config: Config, endpoint: judging.Endpoint,
        db: Path) -> tuple[judging.JudgingRun, float]:
    """One day's judging as the judge_scores asset does it (cache lookup included); the new judgements are
    then stored in the warehouse's judge_cache, outside the timing."""
    started = time.perf_counter()
    scored = judging.score_day(recs, config, endpoint, day=DAY, connect=functools.partial(warehouse.connect, db))
    elapsed = time.perf_counter() - started
    with warehouse.connect(db) as con:
        insert_rows(con, "judging/judge_cache_insert", "new_judgements", scored.cache_rows)
    return scored.run, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2, help="the server's answer latency, seconds")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    judging.import_litellm()  # the import (seconds) is not judging throughput
    proc, base_url = start_server(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.duckdb"
            config = Config(judging=Judging(judges=("relevance",), concurrency=args.concurrency, timeout_s=30,
                                            num_retries=2))
            endpoint = judging.Endpoint(model="openai/bench-judge", api_base=base_url, api_key="no-key-needed")
            recs = records(args.records)
            cpu_started = time.process_time()
            with PeakRSS() as rss:
                first, elapsed = run(recs, config, endpoint, db)
            cpu_per_call_ms = (time.process_time() - cpu_started) / max(first.calls, 1) * 1000
            served = server_requests(base_url)
            verdicts = {v.verdict for v in first.verdicts}
            bound = args.concurrency / args.latency
            rate = first.calls / elapsed
            print(f"first run : {args.records} records, {first.calls} calls ({served} served) in {elapsed:.2f} s "
                  f"-> {rate:.1f} calls/s; bound {bound:.1f} calls/s; ratio {rate / bound:.1%} (target >= 90 %); "
                  f"verdicts {sorted(verdicts)}; peak RSS {gib(rss.peak)}")
            print(f"client CPU: {cpu_per_call_ms:.2f} ms a call (litellm, in this process), so the bound needs "
                  f"{bound * cpu_per_call_ms / 1000:.0%} of a core; load average {os.getloadavg()[0]:.1f} "
                  f"on {os.cpu_count()} cores")

            reference = bare_client(base_url, args.records, args.concurrency)
            print(f"reference : bare aiohttp client, same server and concurrency: {reference:.1f} calls/s "
                  f"({reference / bound:.1%} of the bound); judging reaches {rate / reference:.1%} of it")
            served = server_requests(base_url)

            second, elapsed2 = run(recs, config, endpoint, db)
            served2 = server_requests(base_url) - served
            cached = sum(v.cached for v in second.verdicts)
            print(f"second run: {second.calls} calls ({served2} served), {cached} cached verdicts, {elapsed2:.2f} s "
                  f"(target: 0 calls)")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
