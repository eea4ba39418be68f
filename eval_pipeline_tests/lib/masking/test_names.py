"""Contract: person names are pluggable (a name detector masks them into PERSON tokens, counted per row) and
off by default; loading a detector that is unknown or not installed says what to do."""

import importlib.util

import polars as pl
import pytest

from eval_pipeline.lib import masking
from eval_pipeline.lib.masking import names as pii_names
from eval_pipeline_tests.support.masking_helpers import trace_row

KEY = b"k1"


def test_name_detector_plugs_into_mask_frame() -> None:
    def names(text: str) -> list[tuple[int, int]]:
        i = text.find("Jane Doe")
        return [] if i < 0 else [(i, i + len("Jane Doe"))]

    df = pl.DataFrame([trace_row(response="Thanks Jane Doe, mailed bob@example.com")])
    masked, counts = masking.mask_frame(df, KEY, names=names)
    assert "Jane Doe" not in masked["response"][0] and "<PERSON:" in masked["response"][0]
    assert counts["PERSON"] == 1
    assert {e["key"] for e in masked["pii_found"][0]} >= {"PERSON", "EMAIL"}
    plain, _ = masking.mask_frame(df, KEY)
    assert "Jane Doe" in plain["response"][0]  # off by default


def test_name_detector_load_is_off_by_default_and_explains_what_is_missing() -> None:
    assert pii_names.load("") is None
    with pytest.raises(ValueError, match="privacy.name_detector"):
        pii_names.load("spacy-magic")
    if importlib.util.find_spec("presidio_analyzer") is None:
        with pytest.raises(RuntimeError, match="pip install presidio-analyzer"):
            pii_names.load("presidio")
