"""Contract: the independent PII evaluation set and its scorer measure what they claim.

The generator is deterministic per seed (in any process), covers at least 15 locales and every entity type, and records spans
that match its text. The scorer judges by what survives: a masker that replaces exactly the labelled spans
scores recall 1 with no over-masking and no negative altered; the identity masker scores recall 0;
reformatting a number or changing the case of an address is not masking; a person counts as masked only when
every name part is gone; a masker that replaces every digit run alters negatives (the false-alarm side
works). The Wilson interval matches published values.
"""

import hashlib
import os
import re
import subprocess
import sys

import pytest

from eval_pipeline_tests.support import pii_eval_set, pii_scoring
from eval_pipeline_tests.support.pii_eval_set import KINDS, NEGATIVE_KINDS, LabelledText


@pytest.fixture(scope="module")
def rows() -> list[LabelledText]:
    return pii_eval_set.build(480, seed=1)


def _replace(row: LabelledText, spans: list[tuple[int, int, str]]) -> str:
    text = row.text
    for start, end, token in sorted(spans, reverse=True):
        text = text[:start] + token + text[end:]
    return text


def _perfect(rows: list[LabelledText]) -> pii_scoring.Masker:
    return lambda texts: [_replace(r, [(e.start, e.end, f"<{e.kind}:0a1b2c3d4e>") for e in r.entities]) for r in rows]


def test_build_is_deterministic_per_seed() -> None:
    first, again = pii_eval_set.build(120, seed=5), pii_eval_set.build(120, seed=5)
    other = pii_eval_set.build(120, seed=6)
    assert first == again
    assert [r.text for r in first] != [r.text for r in other]


def test_build_is_the_same_in_another_process() -> None:
    """Faker keeps some locale data in set order, which changes with the hash seed of the process."""
    code = ("import hashlib; from eval_pipeline_tests.support import pii_eval_set as s; "
            "print(hashlib.sha256(repr(s.build(240, seed=2)).encode()).hexdigest())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    here = pii_eval_set.build(240, seed=2)
    assert any(r.locale == "it_IT" and {"LOCATION", "ADDRESS"} & {e.kind for e in r.entities} for r in here)
    assert other.stdout.strip() == hashlib.sha256(repr(here).encode()).hexdigest()


def test_build_covers_locales_types_and_negatives(rows: list[LabelledText]) -> None:
    assert len({r.locale for r in rows}) >= 15
    assert {e.kind for r in rows for e in r.entities} == set(KINDS)
    assert {n.kind for r in rows for n in r.negatives} == set(NEGATIVE_KINDS)
    assert len({r.language for r in rows}) >= 8
    assert any(not r.entities and r.negatives for r in rows), "texts of negatives alone are part of the set"
    assert any(r.entities and r.negatives for r in rows), "negatives are also mixed with entities"


def test_build_records_spans_that_match_the_text(rows: list[LabelledText]) -> None:
    for row in rows:
        for e in row.entities:
            assert row.text[e.start:e.end] == e.value
            assert e.needles and all(pii_eval_set.needle_spans(e.kind, n, e.value) for n in e.needles)
        for neg in row.negatives:
            assert row.text[neg.start:neg.end] == neg.value
        spans = sorted([(e.start, e.end) for e in row.entities] + [(n.start, n.end) for n in row.negatives])
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), "labelled spans never overlap"


def test_score_perfect_masker_recalls_everything_and_keeps_the_rest(rows: list[LabelledText]) -> None:
    score = pii_scoring.score(rows, _perfect(rows))
    assert all(rate.value == 1.0 for rate in score.recall.values())
    assert set(score.recall) == set(KINDS)
    assert score.structured.value == 1.0 and score.names.value == 1.0
    assert score.over_masking.k == 0 and score.over_masking.n > 1000
    assert score.negatives_altered.k == 0 and score.negatives_altered.n > 500
    table = score.format_table()
    assert all(kind in table for kind in KINDS) and "structured" in table and "95 % interval" in table


def test_score_identity_masker_recalls_nothing(rows: list[LabelledText]) -> None:
    score = pii_scoring.score(rows, lambda texts: texts)
    assert all(rate.k == 0 and rate.n > 0 for rate in score.recall.values())
    assert score.over_masking.k == 0 and score.negatives_altered.k == 0


def test_score_reformatting_or_recasing_is_not_masking(rows: list[LabelledText]) -> None:
    def reformat(texts: list[str]) -> list[str]:
        joined = [re.sub(r"(?<=\d)[\s.()-]+(?=\d)", "", t) for t in texts]  # digits run together
        return [t.lower() for t in joined]

    score = pii_scoring.score(rows, reformat)
    for kind in ("PHONE", "CARD", "SSN", "IBAN", "EMAIL", "URL"):
        assert score.recall[kind].k == 0, kind


def test_score_person_needs_every_name_part_gone(rows: list[LabelledText]) -> None:
    def surname_only(texts: list[str]) -> list[str]:
        out = []
        for row in rows:
            spans = []
            for e in row.entities:
                if e.kind != "PERSON":
                    spans.append((e.start, e.end, "<X>"))
                    continue
                last = e.needles[-1]
                at = e.start + e.value.rindex(last)
                spans.append((at, at + len(last), "<PERSON>"))
            out.append(_replace(row, spans))
        return out

    persons = [e for r in rows for e in r.entities if e.kind == "PERSON"]
    single = sum(len(e.needles) == 1 for e in persons)
    score = pii_scoring.score(rows, surname_only)
    assert score.names.k == single < score.names.n
    assert score.structured.value == 1.0


def test_score_digit_run_masker_alters_negatives(rows: list[LabelledText]) -> None:
    score = pii_scoring.score(rows, lambda texts: [re.sub(r"\d+", "<N>", t) for t in texts])
    assert score.negatives_altered.k > 0.3 * score.negatives_altered.n
    assert score.altered_by_kind["order"].value == 1.0
    assert score.altered_by_kind["metric"].k == 0, "dotted names without digits survive"
    assert score.over_masking.k > 0
    assert all(score.recall[kind].value == 1.0 for kind in ("PHONE", "CARD", "SSN", "IBAN"))
    assert "order" in score.format_table(examples=2)


def test_score_blanking_everything_is_caught_by_the_false_alarm_side(rows: list[LabelledText]) -> None:
    score = pii_scoring.score(rows, lambda texts: ["<REDACTED>"] * len(texts))
    assert score.structured.value == 1.0 and score.names.value == 1.0
    assert score.over_masking.value == 1.0 and score.negatives_altered.value == 1.0


def test_score_rejects_a_masker_that_drops_texts(rows: list[LabelledText]) -> None:
    with pytest.raises(ValueError, match="one text per input"):
        pii_scoring.score(rows, lambda texts: texts[:-1])


@pytest.mark.parametrize(("k", "n", "lo", "hi"), [(5, 10, 0.2366, 0.7634), (1, 10, 0.0179, 0.4042),
                                                  (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (0, 0, 0.0, 1.0)])
def test_wilson_matches_published_intervals(k: int, n: int, lo: float, hi: float) -> None:
    assert pii_scoring.wilson(k, n) == pytest.approx((lo, hi), abs=5e-5)
