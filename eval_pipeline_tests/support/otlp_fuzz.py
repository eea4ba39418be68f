"""Hypothesis strategies and checks for fuzzing the readers, shared by the tests (a quick profile) and
``bench/fuzz.py`` (ten thousand cases and more).

A case is a generated export (resources, scopes, spans with attributes of every AnyValue kind) written in one of
the on-disk forms (OTLP/JSON, a JSON array, JSON lines, protobuf, the length-prefixed stream, each optionally
gzip-compressed), then either read as it is or mutated first: bytes flipped, cut, inserted or deleted, or one
node of the JSON tree replaced by a hostile value (wrong type, huge number, deep nesting, null) or one of its
keys misspelt. The checks say what must hold: :func:`check_sent` for an export as it was sent (every span read,
no problem), :func:`check_json_mutation` for a JSON tree mutation (a span missing is accounted for by a problem,
unless the mutation emptied a container the way a sender may), :func:`check_any` for anything at all (no
exception; every span read becomes a row or a quarantine row).
"""

import gzip
from dataclasses import dataclass
from typing import Any

import orjson
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from eval_pipeline.lib.ingest import files, readers
from eval_pipeline.lib.ingest.records import MAX_NS, MIN_NS
from eval_pipeline.synthetic import writers  # its protobuf AnyValue writer
from eval_pipeline_tests.support import otlp_builders as b

FORMS = ("json", "json_array", "jsonl", "proto", "proto_stream")
JSON_FORMS = ("json", "json_array", "jsonl")
_I64 = 1 << 63

# ---------------------------------------------------------------------------------------------- exports

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-_I64, _I64 - 1),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40), st.binary(max_size=16))
values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
_attributes = st.dictionaries(st.text(min_size=1, max_size=20), values, max_size=5)


@st.composite
def spans(draw: st.DrawFn) -> dict:
    start = draw(st.integers(MIN_NS, MAX_NS - 10**13))
    return {
        "trace_id": draw(st.binary(min_size=16, max_size=16).filter(any)),
        "span_id": draw(st.binary(min_size=8, max_size=8).filter(any)),
        "parent": draw(st.none() | st.binary(min_size=8, max_size=8).filter(any)),
        "name": draw(st.text(max_size=30)),
        "kind": draw(st.integers(0, 5)),
        "start": start,
        "end": start + draw(st.integers(0, 10**12)),
        "status": draw(st.integers(0, 2)),
        "message": draw(st.none() | st.text(min_size=1, max_size=30)),
        "attributes": draw(_attributes),
        "events": draw(st.lists(st.fixed_dictionaries({
            "name": st.text(max_size=20), "time": st.integers(0, _I64 - 1), "attributes": _attributes}), max_size=2)),
    }


def example_spans(starts: list[int]) -> list[dict]:
    """Plain spans (as :func:`spans` draws them) starting at the given times, for tests that need a few."""
    return [{"trace_id": b"\x01" * 16, "span_id": (i + 1).to_bytes(8, "big"), "parent": None, "name": "s",
             "kind": 1, "start": t, "end": t + 1000, "status": 0, "message": None, "attributes": {}, "events": []}
            for i, t in enumerate(starts)]


# An export: requests of resources (attributes, scopes of (name, spans)).
exports = st.lists(st.lists(st.tuples(
    _attributes, st.lists(st.tuples(st.text(max_size=20), st.lists(spans(), max_size=4)), max_size=2)),
    min_size=1, max_size=2), min_size=1, max_size=3)


def sent(export: list) -> int:
    return sum(len(ss) for req in export for _, scopes in req for _, ss in scopes)


def _json_request(req: list) -> dict:
    return {"resourceSpans": [{
        "resource": {"attributes": b.attrs(resource)},
        "scopeSpans": [{"scope": {"name": name}, "spans": [{
            "traceId": s["trace_id"].hex(), "spanId": s["span_id"].hex(),
            "parentSpanId": s["parent"].hex() if s["parent"] else "", "name": s["name"], "kind": s["kind"],
            "startTimeUnixNano": str(s["start"]), "endTimeUnixNano": str(s["end"]),
            "attributes": b.attrs(s["attributes"]),
            "events": [{"name": e["name"], "timeUnixNano": str(e["time"]), "attributes": b.attrs(e["attributes"])}
                       for e in s["events"]],
            "status": {"code": s["status"], **({"message": s["message"]} if s["message"] else {})},
        } for s in ss]} for name, ss in scopes],
    } for resource, scopes in req]}


def _proto_request(req: list) -> bytes:
    msg = ExportTraceServiceRequest()
    for resource, scopes in req:
        rs = msg.resource_spans.add()
        writers._pb_attrs(rs.resource.attributes, resource)
        for name, ss in scopes:
            sc = rs.scope_spans.add()
            sc.scope.name = name
            for s in ss:
                p = sc.spans.add()
                p.trace_id, p.span_id, p.parent_span_id = s["trace_id"], s["span_id"], s["parent"] or b""
                p.name, p.kind = s["name"], s["kind"]
                p.start_time_unix_nano, p.end_time_unix_nano = s["start"], s["end"]
                p.status.code = s["status"]
                p.status.message = s["message"] or ""
                writers._pb_attrs(p.attributes, s["attributes"])
                for e in s["events"]:
                    ev = p.events.add()
                    ev.name, ev.time_unix_nano = e["name"], e["time"]
                    writers._pb_attrs(ev.attributes, e["attributes"])
    return msg.SerializeToString()


def json_tree(export: list, form: str) -> Any:
    """The decoded JSON of an export in one of the JSON forms (JSON lines: the list of lines)."""
    reqs = [_json_request(r) for r in export]
    return reqs[0] if form == "json" and len(reqs) == 1 else reqs


def encode_tree(tree: Any, form: str) -> bytes:
    if form == "jsonl":
        return b"\n".join(orjson.dumps(r) for r in tree) + b"\n"
    if form == "json" and isinstance(tree, list):
        return b"\n".join(orjson.dumps(r) for r in tree)  # several requests in a .json: lines
    return orjson.dumps(tree)


def encode(export: list, form: str, gz: bool = False) -> bytes:
    if form in JSON_FORMS:
        data = encode_tree(json_tree(export, form), form)
    else:
        messages = [_proto_request(r) for r in export]
        if form == "proto":
            messages = [b"".join(messages)]  # concatenated messages parse as their merge: one request
        data = (b"".join(len(m).to_bytes(4, "big") + m for m in messages) if form == "proto_stream"
                else messages[0])
    return gzip.compress(data, mtime=0) if gz else data


# -------------------------------------------------------------------------------------------- mutations

_DEEP = "\u0000deep\u0000"
hostile = st.one_of(
    st.none(), st.booleans(), st.just(""), st.just([]), st.just({}), st.integers(-(10**30), 10**30),
    st.floats(), st.text(max_size=20), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.integers(250, 1100).map(lambda n: (_DEEP, n)),  # a list nested n deep
)
_EMPTY = (None, "", 0, False, [], {})


@dataclass
class TreeMutation:
    path: list[int]  # choices down the tree (index into keys or items, modulo their count)
    value: Any  # what replaces the node, or None with rename
    rename: bool = False  # misspell the node's key instead


tree_mutations = st.builds(TreeMutation, st.lists(st.integers(0, 50), min_size=1, max_size=12), hostile,
                           st.booleans())


def mutate_tree(tree: Any, m: TreeMutation) -> tuple[Any, bool]:
    """Apply a mutation in place-safe fashion (the tree is copied); returns the new tree and whether the mutation
    only emptied something the way a sender may (null, empty list or object, zero), so losing spans to it is
    no loss."""
    tree = orjson.loads(orjson.dumps(tree))
    parent, key, node = None, None, tree
    for choice in m.path:
        if isinstance(node, dict) and node:
            k = sorted(node)[choice % len(node)]
        elif isinstance(node, list) and node:
            k = choice % len(node)
        else:
            break
        parent, key, node = node, k, node[k]
    if parent is None:
        return (m.value if not m.rename else tree), m.value in _EMPTY if not isinstance(m.value, tuple) else False
    if m.rename and isinstance(parent, dict):
        parent[key + "x"] = parent.pop(key)
        return tree, False
    parent[key] = m.value
    return tree, not isinstance(m.value, tuple) and m.value in _EMPTY


def dumps(obj: Any) -> bytes:
    """JSON of a tree that may hold what orjson cannot write: numbers over 64 bits (JSON allows them) and
    deep-nesting markers (a list nested n deep), written as text."""
    raw: list[bytes] = []

    def swap(node: Any) -> Any:
        if isinstance(node, tuple) and node and node[0] == _DEEP:
            raw.append(b"[" * node[1] + b"]" * node[1])
        elif isinstance(node, int) and not isinstance(node, bool) and not -_I64 <= node < _I64:
            raw.append(str(node).encode())
        elif isinstance(node, list):
            return [swap(e) for e in node]
        elif isinstance(node, dict):
            return {k: swap(e) for k, e in node.items()}
        else:
            return node
        return f"@@raw{len(raw) - 1}@@"

    data = orjson.dumps(swap(obj))
    for i, text in enumerate(raw):
        data = data.replace(f'"@@raw{i}@@"'.encode(), text, 1)
    return data


def encode_mutated(tree: Any, form: str) -> bytes:
    if form == "jsonl" and isinstance(tree, list):
        return b"\n".join(dumps(r) for r in tree) + b"\n"
    return dumps(tree)


@dataclass
class ByteMutation:
    ops: list[tuple[int, str, int]]  # (position per mille, operation, byte)


byte_mutations = st.builds(ByteMutation, st.lists(st.tuples(
    st.integers(0, 999), st.sampled_from(("flip", "set", "insert", "delete", "cut")), st.integers(0, 255)),
    min_size=1, max_size=4))


def mutate_bytes(data: bytes, m: ByteMutation) -> bytes:
    buf = bytearray(data)
    for where, op, byte in m.ops:
        if not buf:
            break
        i = where * len(buf) // 1000
        if op == "flip":
            buf[i] ^= 1 << (byte % 8)
        elif op == "set":
            buf[i] = byte
        elif op == "insert":
            buf.insert(i, byte)
        elif op == "delete":
            del buf[i]
        else:
            del buf[i:]
    return bytes(buf)


# ------------------------------------------------------------------------------------------------ checks


@dataclass
class Outcome:
    spans: int  # spans read
    rows: int  # spans that became canonical rows Arrow takes
    problems: int  # quarantine rows


def _pipeline(data: bytes) -> tuple[readers.FileRead, Outcome]:
    read = readers.read_bytes(data)
    rows, positions, problems = [], [], list(read.problems)
    files.normalise_into(read.spans, rows, positions, problems)
    normalised = len(problems)
    kept = files._storable(rows, positions, problems)[0] if rows else []
    assert len(rows) - len(kept) == len(problems) - normalised  # a row Arrow refuses has its problem
    assert len(read.spans) - len(kept) <= len(problems) - len(read.problems)  # a span dropped has its problem
    for p in problems:
        assert isinstance(p.reason, str) and p.reason and isinstance(p.position, int)
    return read, Outcome(len(read.spans), len(kept), len(problems))


def check_any(data: bytes) -> Outcome:
    """Any bytes: the readers, the normaliser and the Arrow conversion never raise, and every span read becomes
    a row or a quarantine row."""
    return _pipeline(data)[1]


def check_sent(export: list, form: str, gz: bool) -> Outcome:
    """An export as sent: every span read, none quarantined, ids and times as sent."""
    read, out = _pipeline(encode(export, form, gz))
    assert (out.spans, out.rows, out.problems) == (sent(export), sent(export), 0), read.problems[:3]
    got = sorted((s.trace_id, s.span_id, s.start_ns, s.end_ns) for s in read.spans)
    want = sorted((s["trace_id"].hex(), s["span_id"].hex(), s["start"], s["end"])
                  for req in export for _, scopes in req for _, ss in scopes for s in ss)
    assert got == want
    return out


def check_json_mutation(export: list, form: str, m: TreeMutation) -> Outcome:
    """One node of a JSON export replaced or its key misspelt: no exception, and fewer spans than sent only with
    a problem, unless the mutation emptied a container as a sender may."""
    tree, emptied = mutate_tree(json_tree(export, form), m)
    out = check_any(encode_mutated(tree, form))
    assert out.spans <= sent(export)  # nothing made up
    assert out.spans == sent(export) or out.problems or emptied
    return out
