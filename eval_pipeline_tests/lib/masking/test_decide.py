"""Contract: a detector's column validator (``validate_many``, decided in Rust) takes exactly the decisions
of its Python validator, and the engine's decisions through it are the reference's."""

import polars as pl

from eval_pipeline.lib import masking
from eval_pipeline.lib.masking.detectors import DETECTORS
from eval_pipeline.lib.masking.reference import mask_text_re

KEY = b"k1"
CASES = [
    ("jane@example.com", ""), ("Jane.Doe@Example.COM", ""), ("icon@2x.png", ""), ("logo@3x.WEBP", ""),
    ("a@b.io", ""), ("bob@example.org", "@x"), ("ann@example.co", ":8080"), ("x@mail.py", ""),
    ("x@mail.pyc", ""), ("x@host.json", ""), ("x@host.jsonl", ""), ("tim+tag@sub.example.net", ""),
]


def test_column_validators_decide_as_their_python_validators() -> None:
    with_many = [d for d in DETECTORS if d.validate_many is not None]
    assert with_many
    frame = pl.DataFrame({"value": [v for v, _ in CASES], "tail": [t for _, t in CASES]})
    for d in with_many:
        got = frame.select(d.validate_many(pl.col("value"), pl.col("tail"))).to_series().to_list()
        assert got == [d.validate(v, t) for v, t in CASES], d.kind


def test_the_engine_through_column_validators_agrees_with_the_reference() -> None:
    texts = [f"write to {v}{t} today" for v, t in CASES] + ["JOHN@EXAMPLE.COM and john@example.com"]
    masked = masking.mask_series(pl.Series(texts), KEY).texts.to_list()
    assert masked == [mask_text_re(t, KEY) for t in texts]
    assert masked[-1].count(masking.pseudonym("EMAIL", "john@example.com", KEY)) == 2
