"""OTLP/JSON: one ``ExportTraceServiceRequest``, a JSON array of them, or JSON lines (the Collector's file
exporter), each line detected on its own.

Every level of the request is checked for its shape before it is walked, and every value through
:mod:`.records`, so a value of the wrong type, size, depth or range becomes a :class:`Problem` for the smallest
thing that holds it (an attribute, an event, a span, a line) and the rest is kept.
"""

from typing import Any

import orjson

from eval_pipeline.lib.ingest.records import (
    MAX_ATTRIBUTE_CHARS,
    MAX_DEPTH,
    SPAN_KINDS,
    STATUS_CODES,
    BadRecord,
    FileRead,
    Problem,
    RawSpan,
    describe,
    excerpt,
    excerpt_of,
    kind_of,
    normalize_id,
    to_enum,
    to_int,
    to_text,
    to_time,
)

_INT64 = 1 << 63


def _plain(v: Any, depth: int) -> Any:
    """A native JSON value some writers put where an AnyValue belongs, checked for depth and range."""
    if v is None or isinstance(v, str | bool | float):
        return v
    if type(v) is int:
        if not -_INT64 <= v < _INT64:
            raise BadRecord(f"integer {v} is outside the 64-bit range")
        return v
    if depth >= MAX_DEPTH:
        raise BadRecord(f"value nested deeper than {MAX_DEPTH} levels")
    if isinstance(v, list):
        return [_plain(e, depth + 1) for e in v]
    if isinstance(v, dict):
        return {k: _plain(e, depth + 1) for k, e in v.items()}
    raise BadRecord(f"a value that is {kind_of(v)}")


def _kv_values(x: Any, what: str) -> list:
    if x is None:
        return []
    values = x.get("values") if isinstance(x, dict) else None
    if values is None:
        return []
    if not isinstance(values, list):
        raise BadRecord(f"{what}.values is {kind_of(values)}, not a list")
    return values


def any_value(v: Any, depth: int = 0) -> Any:
    """Decode an OTLP/JSON ``AnyValue``; an empty object is null. Raises BadRecord for a value of the wrong
    type, range or depth."""
    if not isinstance(v, dict):
        return _plain(v, depth)  # liberal: some writers put native values here
    for k, x in v.items():
        if k in ("stringValue", "string_value"):
            if x is None or isinstance(x, str):
                return x
            return to_text(x, "stringValue")
        if k in ("intValue", "int_value"):
            return to_int(x, "intValue")
        if k in ("boolValue", "bool_value"):
            if isinstance(x, str) and x.lower() in ("true", "false"):
                return x.lower() == "true"
            if x is None or isinstance(x, bool | int):
                return bool(x)
            raise BadRecord(f"boolValue {excerpt_of(x)[:40]} is not a boolean")
        if k in ("doubleValue", "double_value"):
            if isinstance(x, bool) or not isinstance(x, int | float | str):
                raise BadRecord(f"doubleValue {excerpt_of(x)[:40]} is not a number")
            try:
                return float(x)
            except (ValueError, OverflowError):
                raise BadRecord(f"doubleValue {excerpt_of(x)[:40]} is not a number") from None
        if k in ("arrayValue", "array_value", "kvlistValue", "kvlist_value"):
            if depth >= MAX_DEPTH:
                raise BadRecord(f"value nested deeper than {MAX_DEPTH} levels")
            if k.startswith("array"):
                return [any_value(e, depth + 1) for e in _kv_values(x, k)]
            out = {}
            for e in _kv_values(x, k):
                if not isinstance(e, dict) or not isinstance(e.get("key"), str):
                    raise BadRecord(f"{k} entry {excerpt_of(e)[:60]} has no text key")
                out[e["key"]] = any_value(e.get("value"), depth + 1)
            return out
        if k in ("bytesValue", "bytes_value"):
            return to_text(x, "bytesValue")
    return None


def attributes(items: Any, problems: list[Problem], position: int, where: str = "span") -> dict[str, Any]:
    """A ``KeyValue`` list as a dict; an unreadable attribute is dropped and reported, the rest kept."""
    if not items:
        return {}
    if not isinstance(items, list):
        problems.append(Problem(position, f"{where} attributes are {kind_of(items)}, not a list; "
                                          "attributes dropped", excerpt_of(items)))
        return {}
    out = {}
    for a in items:
        key = a.get("key") if type(a) is dict else None
        if type(key) is not str:
            problems.append(Problem(position, f"{where} attribute {excerpt_of(a)[:80]} has no text key; "
                                              "attribute dropped", excerpt_of(a)))
            continue
        v = a.get("value")
        # Fast path: most attributes are strings.
        val = v.get("stringValue") if type(v) is dict else None
        if type(val) is not str:
            try:
                val = any_value(v)
            except (BadRecord, RecursionError, TypeError, ValueError) as exc:
                problems.append(Problem(position, f"{where} attribute {key[:100]!r}: {exc}; attribute dropped, "
                                                  "the rest kept", excerpt_of(v)))
                continue
        if isinstance(val, str) and len(val) > MAX_ATTRIBUTE_CHARS:
            problems.append(Problem(position, f"attribute {key[:100]!r} is {len(val)} characters, over the "
                                              f"{MAX_ATTRIBUTE_CHARS} limit; value dropped, span kept", excerpt(val)))
            val = f"[dropped: {len(val)} characters]"
        out[key] = val
    return out


def _g(d: dict, camel: str, snake: str, default: Any = None) -> Any:
    v = d.get(camel)
    if v is None:
        v = d.get(snake, default)
    return v


# The keys a resourceSpans / scopeSpans entry may hold (OTLP's, snake_case, and the names before OTLP 0.15).
_RESOURCE_KEYS = frozenset({"resource", "schemaUrl", "schema_url", "scopeSpans", "scope_spans",
                            "instrumentationLibrarySpans", "instrumentation_library_spans"})
_SCOPE_KEYS = frozenset({"scope", "schemaUrl", "schema_url", "spans", "instrumentationLibrary",
                         "instrumentation_library"})


def _children(d: dict, keys: tuple[str, ...], known: frozenset[str], what: str, position: int, out: FileRead) -> list:
    """The list an entry holds under the first of ``keys`` present. Absent, with keys the schema does not know
    (a misspelt key), is a problem: the entry's spans would otherwise vanish without a word."""
    for k in keys:
        if d.get(k) is not None:
            return _list(d[k], k, position, out)
    unknown = sorted(str(k) for k in d if k not in known)
    if unknown:
        out.problems.append(Problem(position, f"a {what} entry has no {keys[0]} but unknown keys {unknown[:5]}; "
                                              "skipped", excerpt_of(d)))
    return []


def _list(value: Any, what: str, position: int, out: FileRead) -> list:
    """A list where the schema has one; anything else is reported and read as empty."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    out.problems.append(Problem(position, f"{what} is {kind_of(value)}, not a list; skipped",
                                excerpt_of(value)))
    return []


def _events(items: Any, problems: list[Problem], position: int) -> list[dict[str, Any]]:
    events = []
    if not isinstance(items, list):
        if items:
            problems.append(Problem(position, f"span events are {kind_of(items)}, not a list; events "
                                              "dropped, span kept", excerpt_of(items)))
        return events
    for e in items:
        try:
            if not isinstance(e, dict):
                raise BadRecord(f"{kind_of(e)}, not an object")
            t = _g(e, "timeUnixNano", "time_unix_nano", 0)
            time_ns = to_int(t, "timeUnixNano")
            if time_ns < 0:
                raise BadRecord(f"timeUnixNano {time_ns} is negative")
            events.append({"name": to_text(e.get("name"), "event name"), "time_unix_nano": time_ns,
                           "attributes": attributes(e.get("attributes"), problems, position, "event")})
        except BadRecord as exc:
            problems.append(Problem(position, f"unreadable span event: {exc}; event dropped, span kept",
                                    excerpt_of(e)))
    return events


def _span(s: Any, resource: dict[str, Any], scope_name: str | None, position: int, out: FileRead) -> RawSpan:
    if not isinstance(s, dict):
        raise BadRecord(f"a span is {kind_of(s)}, not an object")
    trace_id = normalize_id(_g(s, "traceId", "trace_id"), 16)
    span_id = normalize_id(_g(s, "spanId", "span_id"), 8)
    if trace_id is None or span_id is None:
        raise BadRecord("span has no traceId or spanId")
    parent = normalize_id(_g(s, "parentSpanId", "parent_span_id"), 8)
    start = to_time(_g(s, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano")
    end_raw = _g(s, "endTimeUnixNano", "end_time_unix_nano")
    end = start
    if end_raw is not None and end_raw not in (0, "0"):
        try:
            end = to_time(end_raw, "endTimeUnixNano")
        except BadRecord as exc:
            out.problems.append(Problem(position, f"span {span_id}: {exc}; end set to its start, span kept"))
        if end < start:
            out.problems.append(Problem(position, f"span {span_id} ends {(start - end) / 1e6:.3f} ms before it "
                                                  "starts; end set to its start, span kept"))
            end = start
    status = s.get("status")
    if not isinstance(status, dict):
        status = {}
    name = to_text(s.get("name"), "span name") or ""
    message = to_text(status.get("message"), "status message") or None
    return RawSpan(
        trace_id, span_id, parent, name, to_enum(s.get("kind"), SPAN_KINDS, "SPAN_KIND_"), start, end,
        to_enum(status.get("code"), STATUS_CODES, "STATUS_CODE_"), message,
        attributes(s.get("attributes"), out.problems, position), _events(s.get("events"), out.problems, position),
        resource, scope_name, position,
    )


def spans_from_request(req: Any, position: int, out: FileRead) -> None:
    """The spans of one decoded ``ExportTraceServiceRequest`` into ``out``; what cannot be read into problems."""
    if not isinstance(req, dict):
        out.problems.append(Problem(position, f"expected a JSON object, got {kind_of(req)}", excerpt_of(req)))
        return
    resource_spans = _g(req, "resourceSpans", "resource_spans")
    if resource_spans is None:
        keys = sorted(str(k) for k in req)[:5]
        hint = ""
        if "resourceLogs" in req or "resourceMetrics" in req:
            hint = " (this is a logs or metrics export, not traces)"
        out.problems.append(Problem(position, f"not an OTLP trace export: no resourceSpans, "
                                              f"top-level keys {keys}{hint}", excerpt_of(req)))
        return
    for rs in _list(resource_spans, "resourceSpans", position, out):
        if not isinstance(rs, dict):
            out.problems.append(Problem(position, f"a resourceSpans entry is {kind_of(rs)}, not an object; "
                                                  "skipped", excerpt_of(rs)))
            continue
        res = rs.get("resource")
        resource = attributes(res.get("attributes") if isinstance(res, dict) else None, out.problems, position,
                              "resource")
        scopes = _children(rs, ("scopeSpans", "scope_spans", "instrumentationLibrarySpans",
                                "instrumentation_library_spans"), _RESOURCE_KEYS, "resourceSpans", position, out)
        for ss in scopes:
            if not isinstance(ss, dict):
                out.problems.append(Problem(position, f"a scopeSpans entry is {kind_of(ss)}, not an "
                                                      "object; skipped", excerpt_of(ss)))
                continue
            scope = _g(ss, "scope", "instrumentationLibrary")
            scope_name = scope.get("name") if isinstance(scope, dict) else None
            if scope_name is not None and not isinstance(scope_name, str):
                scope_name = None
            for s in _children(ss, ("spans",), _SCOPE_KEYS, "scopeSpans", position, out):
                try:
                    out.spans.append(_span(s, resource, scope_name, position, out))
                except BadRecord as exc:
                    out.problems.append(Problem(position, f"unreadable span: {exc}", excerpt_of(s)))
                except Exception as exc:  # never lose the span's neighbours to an unforeseen shape
                    out.problems.append(Problem(position, f"span of the wrong shape: {describe(exc)}",
                                                excerpt_of(s)))


def _lines(data: bytes):
    """(line number, line) of every non-blank line, without copying the whole buffer."""
    pos, lineno, n = 0, 0, len(data)
    while pos < n:
        end = data.find(b"\n", pos)
        if end < 0:
            end = n
        lineno += 1
        line = data[pos:end]
        pos = end + 1
        if line.strip():
            yield lineno, line


def has_json_line(data: bytes, tries: int = 100) -> bool:
    """Whether some line (among the first ``tries`` that look like JSON) parses as a JSON object or array."""
    for _, line in _lines(data):
        if line.lstrip()[:1] in (b"{", b"["):
            try:
                if isinstance(orjson.loads(line), dict | list):
                    return True
            except orjson.JSONDecodeError:
                pass
            tries -= 1
            if tries == 0:
                break
    return False


def read_json_lines(data: bytes, out: FileRead) -> int:
    """JSON lines, each line on its own: a request, an array of requests, or a problem. Returns the number of
    lines that were JSON."""
    out.fmt = "otlp-jsonl"
    good = 0
    for lineno, line in _lines(data):
        try:
            req = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            out.problems.append(Problem(lineno, f"malformed JSON on line {lineno}: {exc}", excerpt(line)))
            continue
        good += 1
        try:
            for r in req if isinstance(req, list) else (req,):
                spans_from_request(r, lineno, out)
        except Exception as exc:  # never lose the other lines to an unforeseen shape
            out.problems.append(Problem(lineno, f"line {lineno} could not be read: {describe(exc)}", excerpt(line)))
        out.flush()
    return good


def read_json(data: bytes, out: FileRead) -> None:
    """One JSON document (a request or an array of them), else JSON lines."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    else:
        if isinstance(doc, list):
            out.fmt = "otlp-json-array"
            for i, req in enumerate(doc):
                spans_from_request(req, i, out)
                out.flush()
        else:
            out.fmt = "otlp-json"
            spans_from_request(doc, 0, out)
        return
    before = len(out.problems)
    good = read_json_lines(data, out)
    if good == 0 and len(out.problems) - before > 1:
        # A multi-line document that is broken: one problem for the file, not one per line.
        try:
            orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            del out.problems[before:]
            out.fmt = "otlp-json"
            out.problems.append(Problem(exc.pos, f"malformed JSON: {exc}", excerpt(data[max(0, exc.pos - 80):])))
