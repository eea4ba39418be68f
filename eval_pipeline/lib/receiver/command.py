"""``eval-pipeline receive``: its options (each with the EVAL_* variable it reads) and its run."""

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from eval_pipeline.lib.receiver.senders import SenderLimits, is_loopback, load_tokens, tls_context
from eval_pipeline.lib.receiver.server import Receiver, ReceiverConfig

DESCRIPTION = """\
Serve OTLP/HTTP (POST /v1/traces, protobuf or JSON, optionally gzip) and write each accepted batch into
$EVAL_LANDING_DIR/receiver/<day>/, named with the sender's token name, where the landing sensor and the
ingestion find it. Every option can also be set by the environment variable named in its help; an option
on the command line wins.

Security: on a loopback address (the default, 127.0.0.1) senders need no token. On any other address the
receiver refuses to start unless senders must authenticate (--token-file or EVAL_RECEIVER_TOKENS, and/or
client certificates with --tls-client-ca), or --insecure-no-auth is given. Tokens are sent in clear text
without TLS: give --tls-cert and --tls-key on any network you do not fully trust."""

_SIZE = re.compile(r"(?i)\s*(\d+(?:\.\d+)?)\s*(|k|m|g|t)(?:i?b)?\s*")


def _size(text: str) -> int:
    """Bytes from '64MiB', '1G', '512k' or a plain number of bytes."""
    m = _SIZE.fullmatch(text)
    if not m:
        msg = f"{text!r} is not a size; write a number of bytes, optionally with KiB, MiB, GiB or TiB (e.g. 64MiB)."
        raise argparse.ArgumentTypeError(msg)
    return int(float(m[1]) * 1024 ** " kmgt".index(m[2].lower() or " "))


def _positive(kind: type) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            value = -1
        if value < 0:
            msg = f"{text!r} is not a non-negative number."
            raise argparse.ArgumentTypeError(msg)
        return value
    return parse


def _level(text: str) -> str:
    if text.lower() not in ("debug", "info", "warning", "error"):
        msg = f"{text!r} is not a log level; use debug, info, warning or error."
        raise argparse.ArgumentTypeError(msg)
    return text.lower()


def _human(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n and n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return str(n)


def _options() -> list[tuple]:
    """(flag, environment variable, default, type, metavar, meaning) of every valued option."""
    d, lim = ReceiverConfig(landing_dir=Path()), SenderLimits()
    return [
        ("--host", "EVAL_RECEIVER_HOST", "127.0.0.1", str, "HOST",
         "address to listen on; 0.0.0.0 or :: for every interface"),
        ("--port", "EVAL_RECEIVER_PORT", 4318, int, "PORT", "TCP port; 4318 is the OTLP/HTTP port"),
        ("--token-file", "EVAL_RECEIVER_TOKEN_FILE", None, str, "FILE",
         "file of bearer tokens, one 'name:token' per line (# comments allowed); senders must send "
         "'Authorization: Bearer <token>', and the name is written into every file they cause. Without it, "
         "tokens are read from EVAL_RECEIVER_TOKENS ('name:token' entries separated by commas or newlines)"),
        ("--tls-cert", "EVAL_RECEIVER_TLS_CERT", None, str, "FILE",
         "PEM certificate (chain) to serve HTTPS with; none serves plain HTTP"),
        ("--tls-key", "EVAL_RECEIVER_TLS_KEY", None, str, "FILE", "PEM private key of --tls-cert"),
        ("--tls-client-ca", "EVAL_RECEIVER_TLS_CLIENT_CA", None, str, "FILE",
         "PEM CA certificates: require every client to present a certificate signed by one (mutual TLS); "
         "without tokens, the certificate's common name becomes the sender's name"),
        ("--max-requests-per-second", "EVAL_RECEIVER_MAX_REQUESTS_PER_SECOND", f"{lim.requests_per_second:g}",
         _positive(float), "N", "requests per second per sender before 429 + Retry-After; 0 for no limit"),
        ("--max-bytes-per-minute", "EVAL_RECEIVER_MAX_BYTES_PER_MINUTE", _human(lim.bytes_per_minute), _size,
         "SIZE", "bytes on the wire per minute per sender before 429 + Retry-After; 0 for no limit"),
        ("--max-body", "EVAL_RECEIVER_MAX_BODY", _human(d.max_body_bytes), _size, "SIZE",
         "largest request body, on the wire and again after decompression (413 beyond)"),
        ("--workers", "EVAL_RECEIVER_WORKERS", d.workers, int, "N",
         "requests handled at once; further connections wait in a queue, and are answered 503 + Retry-After "
         f"after {d.max_queue_wait_s:g} s"),
        ("--request-timeout", "EVAL_RECEIVER_REQUEST_TIMEOUT", f"{d.request_timeout_s:g}", _positive(float),
         "SECONDS", "seconds a client has to send one request's headers and body (408 beyond)"),
        ("--min-free-disk", "EVAL_RECEIVER_MIN_FREE_DISK", _human(d.min_free_bytes), _size, "SIZE",
         "free disk a batch must leave in the landing zone, else 503 + Retry-After"),
        ("--log-level", "EVAL_RECEIVER_LOG_LEVEL", "info", _level, "LEVEL",
         "debug, info, warning or error; info logs a summary a minute, debug also one line per batch "
         "(never trace text or tokens)"),
    ]


def add_arguments(p: argparse.ArgumentParser, env: Mapping[str, str] | None = None) -> None:
    env = os.environ if env is None else env
    p.description = DESCRIPTION
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    for flag, var, default, kind, metavar, meaning in _options():
        p.add_argument(flag, default=env.get(var, default), type=kind, metavar=metavar,
                       help=f"{meaning} (default: {'none' if default is None else default}; env {var})")
    p.add_argument("--insecure-no-auth", action="store_true",
                   help="accept senders without a token on a non-loopback address (default: refuse to start; "
                        "deliberately no environment variable)")


def run(args: argparse.Namespace, landing_dir: Path, env: Mapping[str, str] | None = None) -> int:
    """Serve until interrupted; 2 for a configuration the receiver refuses, with the reason on stderr."""
    env = os.environ if env is None else env
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config, warnings = _config(args, landing_dir, env)
        server = Receiver((args.host, args.port), config)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"Cannot listen on {args.host}:{args.port}: {exc.strerror or exc}. Pick another --port or stop the "
              "other process.", file=sys.stderr)
        return 2
    for w in warnings:
        print(f"WARNING: {w}", file=sys.stderr)
    who = (f"{len(config.tokens.names)} tokens ({', '.join(config.tokens.names)})" if config.tokens
           else "client certificates" if server.client_certificates else "anyone (no authentication)")
    limits = config.limits
    print(f"Receiving OTLP/HTTP traces on {server.url} into {landing_dir}/receiver/ (Ctrl-C to stop)\n"
          f"  senders: {who}; TLS: {'on' if config.tls else 'off'}; per sender: "
          f"{limits.requests_per_second:g} requests/s, {limits.bytes_per_minute >> 20} MiB/min (0 = no limit)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print(f"Stopped: {server.accepted_batches} batches, {server.accepted_spans} spans accepted.")
    return 0


def _config(args: argparse.Namespace, landing_dir: Path, env: Mapping[str, str]) -> tuple[ReceiverConfig, list[str]]:
    tokens, warnings = load_tokens(args.token_file, env)
    if bool(args.tls_cert) != bool(args.tls_key):
        msg = "Give both --tls-cert and --tls-key (or neither, for plain HTTP)."
        raise ValueError(msg)
    if args.tls_client_ca and not args.tls_cert:
        msg = "--tls-client-ca needs TLS: give --tls-cert and --tls-key too."
        raise ValueError(msg)
    tls = tls_context(args.tls_cert, args.tls_key, args.tls_client_ca) if args.tls_cert else None
    exposed = not is_loopback(args.host)
    if exposed and args.insecure_no_auth and not tokens and not args.tls_client_ca:
        warnings.append(f"--insecure-no-auth: anyone who can reach {args.host}:{args.port} can write traces into "
                        "the landing zone")
    if exposed and tokens and not tls:
        warnings.append("tokens travel in clear text over plain HTTP; give --tls-cert and --tls-key")
    config = ReceiverConfig(
        landing_dir=landing_dir, tokens=tokens, tls=tls, insecure_no_auth=args.insecure_no_auth,
        limits=SenderLimits(args.max_requests_per_second, args.max_bytes_per_minute),
        max_body_bytes=args.max_body, workers=max(1, args.workers), request_timeout_s=args.request_timeout,
        min_free_bytes=args.min_free_disk)
    return config, warnings

