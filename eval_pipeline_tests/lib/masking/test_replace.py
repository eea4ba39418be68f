"""Contract: candidates are written back the same way on every path of replace.py (texts cut at their
candidates and spliced, placeholders put back; texts holding the cut or neutral character, or whose
placeholder a replacement swallowed, through replace_many in runs), and agree with the plain-re reference."""

import polars as pl
import pytest

from eval_pipeline.lib import masking
from eval_pipeline.lib.masking import replace
from eval_pipeline.lib.masking.reference import mask_text_re

KEY = b"k1"
TOKEN = masking.pseudonym("EMAIL", "old@example.com", KEY)

TEXTS = [
    "mail jane@example.com or call +44 20 7946 0958, card 4111 1111 1111 1111",
    f"already {TOKEN} and new bob@example.org, then {TOKEN}jim@example.net at 10.0.0.5",
    f"{TOKEN}",
    None,
    "",
    "no entity here, order 12345",
    "a cut \x00 inside, ann@example.com then \x00 again",
    "the neutral mark \x1c inside, +1-984-182-0190 and <\x1c> too",
    f"both {TOKEN} \x00 and tim@example.com",
    "postgres://svc:pa55word@10.0.0.5/db and sue@example.com",
]


def _masked(texts: list[str | None]) -> list[str | None]:
    return masking.mask_series(pl.Series("t", texts, dtype=pl.String), KEY).texts.to_list()


def test_every_path_agrees_with_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    many = replace._replaced_many
    monkeypatch.setattr(replace, "_replaced_many", lambda t, f: calls.append(len(t)) or many(t, f))
    assert _masked(TEXTS) == [mask_text_re(t, KEY) for t in TEXTS]
    assert calls  # the texts with \x00 or \x1c went through replace_many


def test_replace_many_in_runs_equals_one_run(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [f"\x00 user{i}@example.com, +44 20 7946 {i:04d} and {TOKEN}x{i}@example.org" for i in range(40)]
    whole = _masked(texts)
    monkeypatch.setattr(replace, "_BATCH", 3)
    assert _masked(texts) == whole
    assert all("@example" not in t and TOKEN in t for t in whole)


def test_a_placeholder_inside_a_candidate_keeps_every_placeholder_in_place() -> None:
    # The key block's match (found in the neutral form) swallows the placeholder's mark: that text goes
    # through replace_many, which leaves the block as the engine always has (a block holding a placeholder
    # is not found in the text itself); its placeholders stay where they were and the rest is masked.
    key_block = f"-----BEGIN RSA PRIVATE KEY-----abc{TOKEN}def-----END RSA PRIVATE KEY-----"
    text = f"{TOKEN} then {key_block} and amy@example.com"
    out, other = _masked([text, f"{TOKEN} and joe@example.com"])
    assert out == text.replace("amy@example.com", masking.pseudonym("EMAIL", "amy@example.com", KEY))
    assert other == f"{TOKEN} and {masking.pseudonym('EMAIL', 'joe@example.com', KEY)}"
