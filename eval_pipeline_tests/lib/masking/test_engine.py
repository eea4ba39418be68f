"""Contract: the engine masks a column or a whole raw_traces-shaped frame in one pass: masking is idempotent and
its tokens are not entities; an entity right after another is found; marker characters in the input cannot
forge a match; masked_traces' frame keeps its shape, pseudonymises ids and counts entities per row; the scan
used by the blocking check finds survivors and raw ids; a column masked in parallel chunks equals one piece."""

from collections import Counter

import polars as pl
import pytest

from eval_pipeline.lib import masking
from eval_pipeline.lib.masking import engine
from eval_pipeline_tests.support.masking_helpers import find_entities, mask_text, mask_traces, trace_row

KEY = b"k1"


def test_mask_text_is_idempotent_and_tokens_are_not_entities() -> None:
    text = "jane@example.com, +44 20 7946 0958, 4111 1111 1111 1111, 10.0.0.1, password=hunter2!"
    once = mask_text(text, KEY)
    assert mask_text(once, KEY) == once
    assert find_entities(once) == []


def test_mask_text_finds_an_entity_right_after_another() -> None:
    # the IP's boundary character is the '@' that ends the URL credentials
    out = mask_text("postgres://svc:pa55word@10.0.0.5/db", KEY)
    assert "pa55word" not in out and "10.0.0.5" not in out


def test_mask_text_ignores_marker_characters_in_the_input() -> None:
    text = "evil \x01\x1e\x1f\x02 jane@example.com \x02"
    out = mask_text(text, KEY)
    assert "jane@example.com" not in out and out.startswith("evil \x01\x1e\x1f\x02 <EMAIL:")


def test_mask_traces_masks_every_text_and_pseudonymises_ids() -> None:
    row = trace_row(error_message="timeout calling 10.0.0.7", root_span_name="GET /users/bob@example.com")
    [out], total = mask_traces([row], KEY)
    assert total == Counter({"EMAIL": 4, "PHONE": 2, "IP": 1})
    assert out["pii_found"] == {"EMAIL": 4, "PHONE": 2, "IP": 1}
    flat = repr(out)
    for secret in ("bob@example.com", "7946", "555-0132", "ann@example.org", "10.0.0.7"):
        assert secret not in flat
    assert out["user_id"].startswith("<USER:") and out["session_id"].startswith("<SESSION:")
    assert out["retrieved_context"][1:] == [None, "plain"]  # list shape and nulls are kept
    assert out["tool_calls"][1] == row["tool_calls"][1]
    assert row["request"] == "I am bob@example.com"  # the input rows are not modified


def test_mask_frame_keeps_rows_order_and_empty_lists() -> None:
    rows = [trace_row(trace_id=f"t{i}") for i in range(3)] + [
        trace_row(trace_id="t9", request=None, response=None, tool_calls=[], retrieved_context=[], user_id=None)]
    df = pl.DataFrame(rows)
    masked, counts = masking.mask_frame(df, KEY)
    assert masked.columns == [*df.columns, "pii_found"]
    assert masked["trace_id"].to_list() == ["t0", "t1", "t2", "t9"]
    assert masked["pii_found"].to_list()[3] == [] and masked["tool_calls"].to_list()[3] == []
    assert masked["user_id"].to_list()[3] is None
    assert counts == Counter({"EMAIL": 9, "PHONE": 6})
    assert masked["request"].n_unique() == 2  # the same request gives the same masked text


def test_scan_frame_reports_survivors_and_raw_ids_without_masked_ones() -> None:
    df = pl.DataFrame([trace_row()])
    found = masking.scan_frame(df)
    assert set(found["kind"]) == {"EMAIL", "PHONE", "USER_ID", "SESSION_ID"}
    assert set(found["column"]) >= {"request", "tool_calls.arguments", "tool_calls.result", "retrieved_context"}
    masked, _ = masking.mask_frame(df, KEY)
    assert masking.scan_frame(masked.drop("pii_found")).is_empty()


def test_redacted_keeps_the_shape_only() -> None:
    assert masking.redacted("Jane.Doe@example.com") == "Xxxx.Xxx@xxxxxxx.xxx"
    assert masking.redacted("+44 20 7946 0958") == "+00 00 0000 0000"


def test_mask_series_in_parallel_chunks_equals_one_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = pl.Series("t", [f"mail user{i}@example.com or call +44 20 7946 {i % 10000:04d} re order {i}"
                            if i % 3 else None for i in range(3001)])
    whole = engine._mask_chunk(texts, b"k", engine.compiled())
    monkeypatch.setattr(engine, "_CHUNK_TEXTS", 700)  # one chunk per core, the last one shorter
    parallel = masking.mask_series(texts, b"k")
    assert parallel.texts.equals(whole.texts) and parallel.texts.name == "t"
    assert parallel.entities.sort(["index", "kind"]).equals(whole.entities.sort(["index", "kind"]))
    assert parallel.counts == whole.counts == Counter({"EMAIL": 2000, "PHONE": 2000})
    assert len(whole.texts) == 3001
