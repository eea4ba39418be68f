"""What the readers produce (:class:`RawSpan`, :class:`Problem`, :class:`FileRead`) and the checks every reader
applies to a value before it becomes part of a span: ids, integers, timestamps, enums, text, and the limits
(attribute size, nesting depth, the accepted time range) past which a value is quarantined instead.

A check that fails raises :class:`BadRecord`, which the reader turns into a :class:`Problem` at the smallest
scope it can (the attribute, the event, the span), keeping everything around it.
"""

import base64
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

# A single attribute value above this size is dropped (its span is kept) and reported.
MAX_ATTRIBUTE_CHARS = 1 << 20
# Nested arrays and maps inside one attribute value: deeper is dropped (its span is kept) and reported.
MAX_DEPTH = 32
# Span start times outside [MIN_TIME, MAX_TIME) are quarantined: a clock at 0 or a corrupt number would
# otherwise create days nobody asked for, or overflow the 64-bit nanosecond columns.
MIN_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
MAX_TIME = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
MIN_NS = int(MIN_TIME.timestamp()) * 10**9
MAX_NS = int(MAX_TIME.timestamp()) * 10**9
_INT64 = 1 << 63
_INT32 = 1 << 31
EXCERPT_CHARS = 200

SPAN_KINDS = {"UNSPECIFIED": 0, "INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
STATUS_CODES = {"UNSET": 0, "OK": 1, "ERROR": 2}


@dataclass(slots=True)
class RawSpan:
    """One span as the export carried it, with ids as lowercase hex and attributes as a plain dict."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: int
    start_ns: int
    end_ns: int
    status_code: int
    status_message: str | None
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    resource: dict[str, Any]
    scope_name: str | None
    position: int


@dataclass(slots=True)
class Problem:
    """Something in a file that could not be read: where, why, and a short excerpt."""

    position: int
    reason: str
    excerpt: str = ""


@dataclass
class FileRead:
    """What a file held. With a ``sink``, spans are handed over after each request (a JSON line, a
    protobuf message) instead of piling up, so a large file is read in bounded memory."""

    spans: list[RawSpan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    fmt: str = "unknown"
    sink: Callable[[list[RawSpan]], None] | None = None
    emitted: int = 0

    @property
    def total(self) -> int:
        return self.emitted + len(self.spans)

    def flush(self) -> None:
        if self.sink is not None and self.spans:
            self.emitted += len(self.spans)
            self.sink(self.spans)
            self.spans = []


class BadRecord(Exception):
    """A record-level problem; the record is skipped and reported, the file goes on."""


def excerpt(data: bytes | str) -> str:
    if isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data[:EXCERPT_CHARS]).decode("utf-8", errors="replace")
    return data[:EXCERPT_CHARS]


def excerpt_of(value: Any) -> str:
    """A short excerpt of a decoded value, whatever it holds (too deep or too large to encode included)."""
    try:
        return excerpt(orjson.dumps(value))
    except (TypeError, ValueError):
        return f"<a {type(value).__name__} that cannot be shown>"


def kind_of(value: Any) -> str:
    """What a decoded JSON value is, in JSON's words: for reasons like "spans is a string, not a list"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def describe(exc: BaseException) -> str:
    """An exception as ``Type: message``, short enough for a quarantine reason."""
    text = str(exc)
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


# ---------------------------------------------------------------------------------------------- ids

_HEXDIGITS = "0123456789abcdefABCDEF"


def normalize_id(value: Any, nbytes: int) -> str | None:
    """Return the id as lowercase hex, or None when empty; raise BadRecord when unreadable.

    Accepts hex of either case (the OTLP/JSON rule), a ``0x`` prefix, base64 (protobuf's JSON
    mapping) and ``{"type": "Buffer", "data": [...]}`` byte arrays.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        n = nbytes * 2
        if len(value) == n and not value.strip(_HEXDIGITS):
            out = value.lower()
        elif len(value) == n + 2 and value[:2] in ("0x", "0X") and not value[2:].strip(_HEXDIGITS):
            out = value[2:].lower()
        else:
            try:
                raw = base64.b64decode(value, validate=True)
            except (ValueError, TypeError):
                raw = b""
            if len(raw) != nbytes:
                msg = f"id {value[:40]!r} is neither {n}-digit hex nor base64 of {nbytes} bytes"
                raise BadRecord(msg)
            out = raw.hex()
    elif isinstance(value, dict) and isinstance(value.get("data"), list):
        try:
            raw = bytes(value["data"])
        except (ValueError, TypeError) as exc:
            raise BadRecord(f"id byte array is not bytes: {exc}") from None
        if len(raw) != nbytes:
            raise BadRecord(f"id byte array has {len(raw)} bytes, expected {nbytes}")
        out = raw.hex()
    else:
        raise BadRecord(f"id of type {type(value).__name__} is not readable")
    if not out.strip("0"):
        return None
    return out


def pb_id(raw: bytes, nbytes: int) -> str | None:
    if not raw or not raw.strip(b"\0"):
        return None
    if len(raw) != nbytes:
        raise BadRecord(f"id has {len(raw)} bytes, expected {nbytes}")
    return raw.hex()


# ------------------------------------------------------------------------------------------ numbers


def to_int(value: Any, what: str) -> int:
    """An integer from the forms exporters write (number, decimal string, a JSON-ed protobufjs Long), within
    the signed 64-bit range; anything else raises BadRecord."""
    out: int | None = None
    if type(value) is int:
        out = value
    elif isinstance(value, str):
        s = value.strip()
        digits = s[1:] if s[:1] in ("+", "-") else s
        if digits.isdecimal():
            if len(digits) > 25:  # cannot fit, and int() refuses huge strings
                raise BadRecord(f"{what} {s[:40]}... ({len(digits)} digits) is outside the 64-bit range")
            out = int(s)
    elif isinstance(value, float):
        if value == value and abs(value) < 2.0**63:  # not NaN, not infinite, fits
            out = int(value)
    elif isinstance(value, dict) and type(value.get("low")) is int and type(value.get("high")) is int:
        # a protobufjs Long that someone JSON.stringify-ed
        out = (value["high"] << 32) | (value["low"] & 0xFFFFFFFF)
    if out is None:
        raise BadRecord(f"{what} {excerpt_of(value)[:40]} is not an integer")
    if not -_INT64 <= out < _INT64:
        raise BadRecord(f"{what} {out} is outside the 64-bit range")
    return out


def to_time(value: Any, what: str) -> int:
    """A span timestamp in nanoseconds since the epoch, inside the accepted range."""
    ns = to_int(value, what)
    if not MIN_NS <= ns < MAX_NS:
        raise BadRecord(f"{what} {ns} is outside the accepted range ({MIN_TIME:%Y-%m-%d} to {MAX_TIME:%Y-%m-%d} UTC)")
    return ns


def to_enum(value: Any, names: dict[str, int], prefix: str) -> int:
    """An OTLP enum given as a number or a name; unknown or out-of-range values are 0 (unspecified)."""
    if type(value) is int:
        return value if 0 <= value < _INT32 else 0
    if isinstance(value, str):
        if value.isdecimal():
            return int(value) if len(value) < 10 else 0
        key = value.upper().removeprefix(prefix).removeprefix("SPANKIND.").removeprefix("STATUSCODE.")
        return names.get(key, 0)
    return 0


def to_text(value: Any, what: str) -> str | None:
    """Text as given; a number or boolean becomes its text; a list or map is not text (BadRecord)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    raise BadRecord(f"{what} is {kind_of(value)}, not text")
