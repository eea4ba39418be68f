"""Test-side conveniences over the masking engine, which works on whole columns: one text at a time, rows as
dicts, and what is left in a text by the plain-``re`` reference. Only tests use these."""

from collections import Counter

import polars as pl

from eval_pipeline.lib.masking import PLACEHOLDER_RE, mask_frame, mask_series
from eval_pipeline.lib.masking.reference import re_matches


def mask_text(text: str | None, key: bytes, counts: Counter | None = None) -> str | None:
    """One text through the engine; ``counts`` (by entity type) is updated in place."""
    if not text:
        return text
    result = mask_series(pl.Series([text]), key)
    if counts is not None:
        counts.update(result.counts)
    return result.texts[0]


def find_entities(text: str | None) -> list[tuple[str, str]]:
    """(type, value) of every entity still in the text (placeholders ignored), found by the reference."""
    if not text:
        return []
    return [(kind, value) for _, kind, value in re_matches(PLACEHOLDER_RE.sub("<>", text))]


def mask_traces(rows: list[dict], key: bytes) -> tuple[list[dict], Counter]:
    """Rows as dicts through :func:`mask_frame`: each gains ``pii_found`` (counts by entity type) as a dict."""
    if not rows:
        return [], Counter()
    df = pl.DataFrame(rows, infer_schema_length=None)
    masked, total = mask_frame(df, key)
    out = []
    for original, r in zip(rows, masked.to_dicts(), strict=True):
        r["pii_found"] = {e["key"]: e["value"] for e in r["pii_found"]}
        if "tool_calls" in original and original["tool_calls"] is None:
            r["tool_calls"] = None
        out.append({**original, **r})
    return out, total


def trace_row(**over: object) -> dict:
    """A raw_traces-shaped row with an e-mail and phone numbers in several of its texts."""
    row = {"trace_id": "t1", "service_name": "svc", "root_span_name": "agent", "error_type": None,
           "request": "I am bob@example.com", "response": "ok, calling +44 20 7946 0958",
           "error_message": None, "session_id": "s1", "user_id": "bob",
           "tool_calls": [{"name": "crm", "arguments": '{"email": "bob@example.com"}',
                           "result": "phone (415) 555-0132", "status": "ok"},
                          {"name": "kb", "arguments": None, "result": "nothing here", "status": "error"}],
           "retrieved_context": ["contact: ann@example.org", None, "plain"]}
    row.update(over)
    return row
