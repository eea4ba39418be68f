"""Read OpenTelemetry trace exports from disk into plain span records.

Accepted, per file, optionally gzip-compressed:
- OTLP/JSON ``ExportTraceServiceRequest`` (one object, a JSON array of them, or JSON lines as the
  Collector's file exporter writes them, each line read on its own) (:mod:`.otlp_json`);
- OTLP protobuf ``ExportTraceServiceRequest`` (one message, or the Collector's 4-byte length-prefixed
  stream) (:mod:`.otlp_proto`).

Readers are liberal in what they accept (hex ids of any case, base64 ids from protobuf's JSON mapping,
``0x`` prefixes, enum names or numbers, 64-bit numbers as strings or numbers, snake_case keys) and never
raise on data: every problem becomes a :class:`Problem` with a position and a reason, at the smallest scope
that holds it (an attribute, an event, a span, a line, a request), and the spans around it are kept. A file
over the size limit, or one that decompresses past it, is a single problem and is not read.

Another on-disk form is one more reader: a function that appends :class:`RawSpan` rows to ``out.spans``
(calling ``out.flush()`` after each request, so a large file stays in bounded memory) and a
:class:`Problem` for each record it cannot read, recognised by its first bytes in :func:`read_bytes`.
"""

import zlib
from collections.abc import Callable
from pathlib import Path

from eval_pipeline.lib.ingest import otlp_json, otlp_proto
from eval_pipeline.lib.ingest.records import (
    MAX_ATTRIBUTE_CHARS,
    MAX_DEPTH,
    MAX_NS,
    MIN_NS,
    BadRecord,
    FileRead,
    Problem,
    RawSpan,
    describe,
    excerpt,
    normalize_id,
)

# Files (and decompressed content) above this size are quarantined unread; ``ingest.max_file_mb`` sets it.
MAX_FILE_BYTES = 256 << 20

_Bad = BadRecord  # the name the tests and older callers use

__all__ = [
    "MAX_ATTRIBUTE_CHARS", "MAX_DEPTH", "MAX_FILE_BYTES", "MAX_NS", "MIN_NS", "FileRead", "Problem", "RawSpan",
    "normalize_id", "read_bytes", "read_file",
]


class TooLarge(Exception):
    """Content over the size limit: the file is quarantined whole."""


def too_large(size: int, max_bytes: int, what: str) -> str:
    return (f"{what} {size / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit (ingest.max_file_mb); "
            "not read. Split the file, or raise the limit if the machine has the memory for it.")


def gunzip(data: bytes, max_bytes: int) -> tuple[bytes, str | None]:
    """Decompress every gzip member there is, up to ``max_bytes``; a truncated or corrupt stream keeps its
    readable prefix."""
    parts: list[bytes] = []
    size = 0
    rest = data
    while rest:
        d = zlib.decompressobj(wbits=47)
        try:
            chunk = d.decompress(rest, max_bytes - size + 1)
        except zlib.error as exc:
            if parts and not rest.strip(b"\0"):
                break  # zero padding after the last member, as tape and some writers leave
            return b"".join(parts), f"corrupt gzip stream: {exc}"
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(too_large(size, max_bytes, "the file decompresses to more than"))
        parts.append(chunk)
        if not d.eof:
            return b"".join(parts), (f"truncated gzip stream: {len(data)} compressed bytes end before the "
                                     "stream does")
        rest = d.unused_data
        if rest[:2] != b"\x1f\x8b":
            if rest.strip(b"\0"):
                return b"".join(parts), f"{len(rest)} bytes after the gzip stream are not gzip; ignored"
            break
    return b"".join(parts), None


def _dispatch(data: bytes, out: FileRead) -> None:
    stripped = data.lstrip()
    if not stripped:
        if not out.problems:
            out.problems.append(Problem(0, "empty file: no trace data"))
        return
    if stripped[:1] in (b"{", b"["):
        before = list(out.problems)
        otlp_json.read_json(data, out)
        if not out.total and data[:1] == b"\n":
            # A protobuf request starts with 0x0A ("\n"); if the next byte happens to be "{" or "[",
            # the file looks like JSON. Prefer the protobuf reading when it yields spans.
            as_proto = FileRead(problems=before)
            otlp_proto.read_message(data, as_proto)
            if as_proto.spans:
                out.spans, out.problems, out.fmt = as_proto.spans, as_proto.problems, as_proto.fmt
    elif otlp_proto.looks_length_prefixed(data):
        otlp_proto.read_stream(data, out)
    else:
        as_proto = FileRead(problems=list(out.problems))
        otlp_proto.read_message(data, as_proto)
        if not as_proto.spans and otlp_json.has_json_line(data):
            # JSON lines whose first line is not JSON (a partial write, a stray header): every line on its own.
            otlp_json.read_json_lines(data, out)
        else:
            out.spans, out.problems, out.fmt = as_proto.spans, as_proto.problems, as_proto.fmt


def read_bytes(data: bytes, out: FileRead | None = None, max_bytes: int = MAX_FILE_BYTES) -> FileRead:
    """Read one file's content (gzip or not) into spans and problems; never raises for bad content."""
    out = out or FileRead()
    try:
        if data[:2] == b"\x1f\x8b":
            data, problem = gunzip(data, max_bytes)
            if problem:
                # The readable prefix is still read; its last, cut-off record is reported by the reader.
                out.problems.append(Problem(len(data), problem, excerpt(data[-200:])))
        _dispatch(data, out)
    except TooLarge as exc:
        out.fmt = "too-large"
        out.problems.append(Problem(0, str(exc)))
    except Exception as exc:  # a reader bug or a resource limit: the file is quarantined, the run goes on
        out.fmt = out.fmt if out.fmt != "unknown" else "unreadable"
        out.problems.append(Problem(0, f"the file could not be read to the end: {describe(exc)}; spans read "
                                       "before this point are kept", excerpt(data)))
    out.flush()
    return out


def read_file(path: str | Path, sink: Callable[[list[RawSpan]], None] | None = None,
              max_bytes: int = MAX_FILE_BYTES) -> FileRead:
    """Read a landing-zone file; never raises for bad content. A file over ``max_bytes`` is one problem."""
    out = FileRead(sink=sink)
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            if size > max_bytes:
                out.fmt = "too-large"
                out.problems.append(Problem(0, too_large(size, max_bytes, "the file is")))
                return out
            fh.seek(0)
            data = fh.read(max_bytes + 1)  # the file may have grown since
    except OSError as exc:
        out.problems.append(Problem(0, f"file could not be read: {exc}"))
        return out
    if len(data) > max_bytes:
        out.fmt = "too-large"
        out.problems.append(Problem(0, too_large(len(data), max_bytes, "the file is more than")))
        return out
    return read_bytes(data, out, max_bytes)
