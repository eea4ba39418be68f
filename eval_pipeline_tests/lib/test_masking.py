"""Contract: e-mail addresses and phone numbers are replaced by typed, keyed pseudonyms (same value,
same token; another key, other tokens), look-alikes are left alone, and ids are pseudonymised."""

from collections import Counter

import pytest

from eval_pipeline.lib import masking

KEY = b"k1"


@pytest.mark.parametrize("text", [
    "mail jane.doe+eval@example.co.uk today",
    "JANE@EXAMPLE.COM",
    "call +44 20 7946 0958",
    "call (415) 555-0132 please",
    "call 415-555-0132",
    "ring +1 415 555 0132",
    "Tel: +49 30 1234567",
    "bel 020 7946 0958",
])
def test_mask_text_removes_entities(text: str) -> None:
    counts: Counter = Counter()
    out = masking.mask_text(text, KEY, counts)
    assert masking.find_entities(out) == []
    assert sum(counts.values()) == 1
    assert "<EMAIL:" in out or "<PHONE:" in out


@pytest.mark.parametrize("text", [
    "2026-11-20T10:00:00Z", "version 1.13.27", "order 123456789", "uuid 550e8400-e29b-41d4-a716-446655440000",
    "gen_ai.prompt and input.value", "/var/log/app-2026-11-20.log", "sha 9f86d081884c7d659a2feaa0c55ad015",
    "took 1234 ms at 12:30:45", "price 1,234.56 USD",
])
def test_mask_text_leaves_look_alikes(text: str) -> None:
    assert masking.mask_text(text, KEY) == text


def test_mask_text_same_value_same_token_other_key_other_token() -> None:
    a = masking.mask_text("a@example.com", KEY)
    assert masking.mask_text("write to A@example.com", KEY) == f"write to {a}"
    assert masking.mask_text("a@example.com", b"k2") != a
    assert masking.mask_text("+1 415 555 0132", KEY) == masking.mask_text("+1-415-555-0132", KEY)


def test_mask_traces_masks_every_text_and_pseudonymises_ids() -> None:
    row = {"request": "I am bob@example.com", "response": "ok, calling +44 20 7946 0958",
           "error_message": None, "session_id": "s1", "user_id": "bob",
           "tool_calls": [{"name": "crm", "arguments": '{"email": "bob@example.com"}',
                           "result": "phone (415) 555-0132", "status": "ok"}],
           "retrieved_context": ["contact: ann@example.org"]}
    [out], total = masking.mask_traces([row], KEY)
    assert total == Counter({"EMAIL": 3, "PHONE": 2})
    assert out["pii_found"] == {"EMAIL": 3, "PHONE": 2}
    flat = repr(out)
    for secret in ("bob@example.com", "7946", "555-0132", "ann@example.org"):
        assert secret not in flat
    assert out["user_id"].startswith("<USER:") and out["session_id"].startswith("<SESSION:")
    assert row["request"] == "I am bob@example.com"  # the input rows are not modified


def test_load_or_create_key_is_stable_and_stored_outside_tables(tmp_path) -> None:
    f = tmp_path / "wh.duckdb.masking.key"
    k1 = masking.load_or_create_key(None, f)
    assert masking.load_or_create_key(None, f) == k1 and len(k1) == 64
    assert masking.load_or_create_key("explicit", f) == b"explicit"
    assert f.stat().st_mode & 0o077 == 0
