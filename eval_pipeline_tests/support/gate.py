"""Helpers for the release gate tests: a dev-eval dataset written straight into a warehouse, a scripted judge
for production and candidate answers, candidate callables, and a tiny JSON HTTP candidate server on
127.0.0.1 (a real server, so the HTTP candidate goes through its real client, statuses and timeouts)::

    with candidate_server(lambda body: (200, {"response": "Answer to " + body["request"]})) as server:
        ...  # --candidate-url server.url; server.bodies holds every request body received
"""

import asyncio
import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from eval_pipeline.lib import warehouse
from eval_pipeline_tests.support.openai_server import ChatRequest, Reply

END = dt.date(2026, 11, 27)
VERSION = "v0test"
JUDGE_MODEL = "openai/test-judge"


def production_answer(request: str) -> str:
    """The production agent's answer to a request in the test datasets."""
    return f"Answer to {request}"


def store_dev_eval(db: Path, n: int, *, end: dt.date = END, version: str = VERSION, weight: float = 4.0,
                   errors: int = 0, requests: list[str] | None = None) -> list[str]:
    """Write ``n`` dev-eval records for the window ending ``end`` (three strata, the first ``errors`` of them
    error traces) with production answers; returns their trace ids."""
    ids = [f"{i:032x}" for i in range(n)]
    with warehouse.connect(db) as con:
        for i, trace_id in enumerate(ids):
            request = requests[i] if requests else f"question {i}?"
            con.execute(
                "INSERT INTO dev_eval_dataset (window_end, window_start, trace_id, trace_date, request, response, "
                "status, stratum, weight, inclusion_probability, dataset_version, latency_ms, tool_path, tool_calls) "
                "VALUES ($e, $s, $t, $e, $q, $a, $st, $k, $w, $p, $v, 120.0, ['search'], $c)",
                {"e": end, "s": end - dt.timedelta(days=6), "t": trace_id, "q": request,
                 "a": production_answer(request), "st": "error" if i < errors else "ok", "k": f"stratum-{i % 3}",
                 "w": weight, "p": 1.0 / weight, "v": version,
                 "c": [{"name": "search", "arguments": "{}", "result": "found", "status": "ok"}]})
    return ids


def gate_judge(request: ChatRequest) -> Reply:
    """The judges: relevance passes an answer that starts with 'Answer to' and fails anything else; it
    abstains on '[[unsure]]'; the pairwise judge prefers the response that starts with 'Answer to'."""
    payload = _payload(request)
    if "response_1" in payload:
        good = [str(payload[k]).startswith("Answer to") for k in ("response_1", "response_2")]
        verdict = "tie" if good[0] == good[1] else ("first" if good[0] else "second")
        return Reply(content=json.dumps({"rationale": "compared", "verdict": verdict}))
    response = str(payload.get("response") or "")
    if "[[unsure]]" in response:
        return Reply(content='{"rationale": "cannot tell from this", "verdict": "unknown"}')
    verdict = "pass" if response.startswith("Answer to") else "fail"
    return Reply(content=json.dumps({"rationale": f"graded {verdict}", "verdict": verdict}))


def _payload(request: ChatRequest) -> dict[str, Any]:
    text = request.user_text
    start = text.index(">", text.index("<data-")) + 1
    return json.loads(text[start:text.rindex("</data-")])


def answer_like_production(request: str, context: dict[str, Any]) -> str:
    return production_answer(request)


def empty_answer(request: str, context: dict[str, Any]) -> str:
    return ""


def unsure_on_tricky(request: str, context: dict[str, Any]) -> str:
    """Like production, except that it answers vaguely (the judge abstains) when the request is tricky."""
    return "[[unsure]] it depends" if "tricky" in request else production_answer(request)


async def async_answer(request: str, context: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"response": production_answer(request),
            "tool_calls": [{"name": "search", "arguments": {"q": request}, "result": "found", "status": "ok"}]}


def echo_context(request: str, context: dict[str, Any]) -> str:
    """Answers with what it was given, so a test can see it."""
    return json.dumps({"request": request, "context": context}, sort_keys=True)


def raises(request: str, context: dict[str, Any]) -> str:
    msg = f"the agent crashed on {request}"
    raise RuntimeError(msg)


def hangs(request: str, context: dict[str, Any]) -> str:
    time.sleep(30)
    return "too late"


def returns_a_number(request: str, context: dict[str, Any]) -> int:
    return 42


@contextmanager
def candidate_server(policy: Callable[[dict[str, Any]], tuple[int, Any]]) -> Iterator["CandidateServer"]:
    """Serve ``POST /answer`` on 127.0.0.1: ``policy(body)`` gives (status, JSON body or bytes)."""
    server = CandidateServer(policy)
    thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(timeout=5)


class CandidateServer:
    def __init__(self, policy: Callable[[dict[str, Any]], tuple[int, Any]]) -> None:
        self.policy = policy
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/answer"


def _handler(server: CandidateServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            with server.lock:
                server.bodies.append(body)
            status, out = server.policy(body)
            payload = out if isinstance(out, bytes) else json.dumps(out).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
            pass

    return Handler
