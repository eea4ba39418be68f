"""An OTLP/HTTP trace receiver that writes each accepted batch atomically into the landing zone.

``POST /v1/traces`` with ``application/x-protobuf`` or ``application/json`` bodies, optionally gzip- or
deflate-compressed, answered per the OTLP/HTTP specification: 200 with an ``ExportTraceServiceResponse``
(``partial_success`` counts the spans rejected), 400 for a body that is not a usable trace export, 401
without a known bearer token, 408 for a request that does not arrive in time, 411/413 for a missing or too
large body, 415 for another content type, 429 with ``Retry-After`` for a sender over its limits, and 503
with ``Retry-After`` (back-pressure) when the workers are saturated, memory or disk is short, or a write
fails. Any OpenTelemetry SDK or Collector can export straight to it; the ingester reads what it writes:
``<landing>/receiver/<day>/otlp-<time>-<id>-<sender>.json|.pb``.

- ``senders``: bearer tokens, TLS, per-sender rate limits.
- ``sift``: which spans of a request may be written.
- ``handler``: one connection's requests and answers.
- ``server``: the worker pool, deadlines, disk and memory guards, the landing-zone writes.
- ``command``: the ``eval-pipeline receive`` command line.
"""

from eval_pipeline.lib.receiver.handler import JSON, PROTOBUF
from eval_pipeline.lib.receiver.senders import SenderLimits, Tokens, load_tokens, parse_tokens, tls_context
from eval_pipeline.lib.receiver.server import ExposedError, Receiver, ReceiverConfig, serve

__all__ = ["JSON", "PROTOBUF", "ExposedError", "Receiver", "ReceiverConfig", "SenderLimits", "Tokens",
           "load_tokens", "parse_tokens", "serve", "tls_context"]
