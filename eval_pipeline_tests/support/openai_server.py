"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

It is a real HTTP server (stdlib ``ThreadingHTTPServer`` in a background thread), so clients such as
litellm go through their real code path: HTTP status handling, ``Retry-After``, retries, timeouts and
concurrency. A policy decides each answer from the request it receives::

    def policy(request: ChatRequest) -> Reply:
        if "ANSWER_FAIL" in request.user_text:
            return Reply(content='{"verdict": "fail", "rationale": "off topic"}')
        return Reply(content='{"verdict": "pass", "rationale": "on topic"}')

    with serve(policy) as server:
        ...  # api_base=server.base_url, model="openai/test-judge"
        assert server.request_count == 1

The server records every request it received (``server.requests``), the number of requests and the
largest number of requests it was serving at the same moment (``server.max_in_flight``); ``GET /stats``
returns both as JSON, for a server in another process. Benchmarks run it as its own process, so its
work does not compete with the client for the GIL::

    python -m eval_pipeline_tests.support.openai_server --delay 0.2   # prints the base URL, serves until killed
"""

import argparse
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ChatRequest:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    attempt: int  # 1 for the first request with this conversation, 2 for its first retry, ...

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def system_text(self) -> str:
        return "\n".join(_text(m) for m in self.messages if m.get("role") in ("system", "developer"))

    @property
    def user_text(self) -> str:
        return "\n".join(_text(m) for m in self.messages if m.get("role") == "user")


@dataclass
class Reply:
    """What the server does with one request.

    ``content`` is the assistant message text; ``status`` other than 200 sends an OpenAI-style error
    body; ``raw_body`` replaces the whole body (for malformed HTTP payloads); ``delay_s`` waits before
    answering; ``hang`` waits until the server stops, so only a client timeout ends the request.
    """

    content: str | None = '{"verdict": "pass", "rationale": "scripted"}'
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    hang: bool = False
    raw_body: bytes | None = None
    prompt_tokens: int = 42
    completion_tokens: int = 7
    refusal: str | None = None


Policy = Callable[[ChatRequest], Reply]


def rate_limited(retry_after_s: float = 0) -> Reply:
    """A 429 reply carrying ``Retry-After``."""
    return Reply(
        status=429,
        headers={"Retry-After": f"{retry_after_s:g}"},
        content="Rate limit reached for test-judge; retry after the delay in Retry-After.",
    )


def server_error() -> Reply:
    """A 500 reply."""
    return Reply(status=500, content="The scripted server failed on purpose.")


class ScriptedOpenAIServer:
    """Serve ``POST /v1/chat/completions`` on 127.0.0.1 with answers chosen by ``policy``."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.requests: list[ChatRequest] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="openai-test-server", daemon=True
        )

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def start(self) -> "ScriptedOpenAIServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _enter(self, request: ChatRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _next_attempt(self, body: dict[str, Any]) -> int:
        key = json.dumps(body.get("messages"), sort_keys=True)
        with self._lock:
            self._attempts[key] = self._attempts.get(key, 0) + 1
            return self._attempts[key]


@contextmanager
def serve(policy: Policy) -> Iterator[ScriptedOpenAIServer]:
    """Run a :class:`ScriptedOpenAIServer` for the duration of the ``with`` block."""
    server = ScriptedOpenAIServer(policy).start()
    try:
        yield server
    finally:
        server.stop()


class _Server(ThreadingHTTPServer):
    # Room for every client connection opened at once (the default backlog of 5 drops some, and the
    # client then waits a second to retry).
    request_queue_size = 256


def _handler_for(server: ScriptedOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Without TCP_NODELAY, Nagle's algorithm and delayed ACKs add ~40 ms to every exchange.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                self._send(404, _error_body(f"No route for {self.path}.", "not_found"))
                return
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._send(400, _error_body("The request body is not JSON.", "invalid_request_error"))
                return
            request = ChatRequest(
                path=self.path, headers=dict(self.headers.items()), body=body, attempt=server._next_attempt(body)
            )
            server._enter(request)
            try:
                reply = server.policy(request)
                if reply.hang:
                    server._stopping.wait(timeout=60)
                    self.close_connection = True
                    return
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.raw_body is not None:
                    payload = reply.raw_body
                elif reply.status == 200:
                    payload = json.dumps(_completion(body, reply)).encode()
                else:
                    payload = _error_body(reply.content or "error", _error_type(reply.status))
                self._send(reply.status, payload, reply.headers)
            finally:
                server._leave()

        def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                # Headers and body in one write: one segment per answer.
                self._headers_buffer.append(b"\r\n")
                self._headers_buffer.append(payload)
                self.flush_headers()
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (its timeout) before the answer was ready.
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
            pass

        def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
            if self.path.rstrip("/") != "/stats":
                self._send(404, _error_body(f"No route for {self.path}.", "not_found"))
                return
            with server._lock:
                stats = {"requests": len(server.requests), "max_in_flight": server.max_in_flight}
            self._send(200, json.dumps(stats).encode())

    return Handler


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "test-judge"),
        "system_fingerprint": "fp_scripted",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content, "refusal": reply.refusal},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


def _error_body(message: str, error_type: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": error_type, "param": None, "code": None}}).encode()


def _error_type(status: int) -> str:
    return {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error"}.get(
        status, "server_error"
    )


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def main(argv: list[str] | None = None) -> None:
    """Serve pass verdicts after ``--delay`` seconds until killed; print the base URL first."""
    parser = argparse.ArgumentParser(description="A scripted OpenAI-compatible server on 127.0.0.1.")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer")
    args = parser.parse_args(argv)
    answer = Reply(content='{"verdict": "pass", "rationale": "scripted"}', delay_s=args.delay)
    server = ScriptedOpenAIServer(lambda request: answer)
    # A benchmark sends thousands of requests: keep only the counts, not every body.
    server.requests = _CountingList()
    server.start()
    print(server.base_url, flush=True)
    try:
        server._stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


class _CountingList(list):
    """A list that counts appends without keeping them."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def append(self, item: Any) -> None:
        self.count += 1

    def __len__(self) -> int:
        return self.count


if __name__ == "__main__":
    main(sys.argv[1:])
