"""Poisoned landing files: the well-formed JSON of the wrong inner shape that made ingestion raise (issue 12,
finding 2), each with how many good spans it holds beside the poison and what its quarantine row says."""

import orjson

from eval_pipeline_tests.support import otlp_builders as b
from eval_pipeline_tests.support.landing import T


def span(**over: object) -> dict:
    s = b.span(b.new_trace_id(), b.new_span_id(), "chat gpt-4o", T, attributes={"gen_ai.operation.name": "chat"})
    s.update(over)
    return s


def line(spans: list[dict]) -> bytes:
    return orjson.dumps(b.request(spans))


def _resource_int_x() -> bytes:
    req = b.request([span(), span()])
    req["resourceSpans"][0]["resource"]["attributes"].append({"key": "pid", "value": {"intValue": "x"}})
    return orjson.dumps(req)


def _null_scope() -> bytes:
    req = b.request([span()])
    req["resourceSpans"][0]["scopeSpans"].insert(0, None)
    return orjson.dumps(req)


# The poisoned files of issue 12 (finding 2), each with what is kept and what the quarantine row says.
POISON = {
    "resource_spans_a_number": (b'{"resourceSpans": 5}', 0, "resourceSpans is a number, not a list"),
    "int_value_not_a_number": (_resource_int_x(), 2, "intValue"),
    "array_1000_deep": (b"[" * 1000 + b"]" * 1000, 0, "expected a JSON object, got a list"),
    "start_time_1e30": (line([span(), span(startTimeUnixNano=str(10**30))]), 1, "outside the 64-bit range"),
    "jsonl_line_resource_spans_a_string": (line([span()]) + b'\n{"resourceSpans": "abc"}\n' + line([span()]),
                                           2, "resourceSpans is a string, not a list"),
    "scope_spans_null": (_null_scope(), 1, "a scopeSpans entry is null, not an object"),
}
