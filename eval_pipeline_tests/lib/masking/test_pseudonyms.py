"""Contract: a pseudonym is typed and keyed (same value, same token; another key or type, another token) and
carries nothing of the value; every path that writes a token (texts, ids, names, the re reference) writes the
same one; the one placeholder pattern recognises every token, in Python and in polars alike; the key is
generated once and kept outside the tables."""

import re

import polars as pl

from eval_pipeline.lib import masking
from eval_pipeline.lib.masking.reference import mask_text_re
from eval_pipeline_tests.support.masking_helpers import mask_text, trace_row

KEY = b"k1"


def test_mask_text_same_value_same_token_other_key_other_token() -> None:
    a = mask_text("a@example.com", KEY)
    assert mask_text("write to A@example.com", KEY) == f"write to {a}"
    assert mask_text("a@example.com", b"k2") != a
    assert mask_text("+1 415 555 0132", KEY) == mask_text("+1-415-555-0132", KEY)
    assert mask_text("4111 1111 1111 1111", KEY) == mask_text("4111111111111111", KEY)
    assert mask_text("GB82 WEST 1234 5698 7654 32", KEY) == mask_text("GB82WEST12345698765432", KEY)


def test_pseudonym_is_typed_keyed_and_carries_nothing_of_the_value() -> None:
    token = masking.pseudonym("EMAIL", "jane@example.com", KEY)
    assert token.startswith("<EMAIL:") and len(token) == len("<EMAIL:>") + masking.TOKEN_HEX
    assert "jane" not in token and "example" not in token
    assert masking.pseudonym("EMAIL", "jane@example.com", b"k2") != token
    assert masking.pseudonym("USER", "jane@example.com", KEY) != token.replace("EMAIL", "USER")
    assert masking.pseudonym("EMAIL", "x", b"k" * 100) != masking.pseudonym("EMAIL", "x", b"k" * 101)


def test_pseudonym_is_the_token_every_path_writes() -> None:
    def names(text: str) -> list[tuple[int, int]]:
        i = text.find("Jane  Doe")
        return [] if i < 0 else [(i, i + len("Jane  Doe"))]

    email = masking.pseudonym("EMAIL", "bob@example.com", KEY)  # the normal form: lower case
    assert mask_text("BOB@example.com", KEY) == email
    assert mask_text_re("BOB@example.com", KEY) == email
    df = pl.DataFrame([trace_row(response="Thanks Jane  Doe")])
    masked, _ = masking.mask_frame(df, KEY, names=names)
    assert masked["request"][0] == f"I am {email}"
    assert masked["user_id"][0] == masking.pseudonym("USER", "bob", KEY)
    assert masked["session_id"][0] == masking.pseudonym("SESSION", "s1", KEY)
    assert masked["response"][0] == "Thanks " + masking.pseudonym("PERSON", "jane doe", KEY)


def test_placeholder_pattern_finds_every_token_and_token_regex_only_its_kind() -> None:
    kinds = [*masking.KINDS, "PERSON", *masking.ID_COLUMNS.values()]
    tokens = [masking.pseudonym(k, "value", KEY) for k in kinds]
    assert all(masking.PLACEHOLDER_RE.fullmatch(t) for t in tokens)
    user = masking.pseudonym("USER", "bob", KEY)
    assert re.search(masking.token_regex("USER"), user)
    for not_a_user_token in (masking.pseudonym("SESSION", "bob", KEY), f"x{user}", f"{user} ", user[:-2] + ">",
                             user.replace(">", "0>"), user.upper()):
        assert not re.search(masking.token_regex("USER"), not_a_user_token), not_a_user_token
    # The same text through Rust's regex (polars) and Python's re gives the same answer.
    texts = [*tokens, f"see {user}.", "<EMAIL:12345>", "<email:0123456789>", "<EMAIL:0123456789abc", "plain"]
    in_rust = pl.Series(texts).str.contains(masking.PLACEHOLDER).to_list()
    assert in_rust == [bool(masking.PLACEHOLDER_RE.search(t)) for t in texts]
    assert in_rust[-5:] == [True, False, False, False, False]


def test_load_or_create_key_is_stable_and_stored_outside_tables(tmp_path) -> None:
    f = tmp_path / "wh.duckdb.masking.key"
    k1 = masking.load_or_create_key(None, f)
    assert masking.load_or_create_key(None, f) == k1 and len(k1) == 64
    assert masking.load_or_create_key("explicit", f) == b"explicit"
    assert f.stat().st_mode & 0o077 == 0
