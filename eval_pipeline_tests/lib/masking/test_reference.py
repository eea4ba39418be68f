"""Contract: the vectorised engine and the plain-``re`` reference (one string at a time, the benchmark's
baseline) give the same output on the labelled set."""

import polars as pl

from eval_pipeline.lib import masking
from eval_pipeline.lib.masking.reference import mask_text_re
from eval_pipeline_tests.support.masking_labelled import SAMPLES

KEY = b"k1"


def test_vectorised_masker_and_re_reference_agree() -> None:
    texts = [s.text for s in SAMPLES]
    vectorised = masking.mask_series(pl.Series(texts), KEY).texts.to_list()
    assert vectorised == [mask_text_re(t, KEY) for t in texts]
