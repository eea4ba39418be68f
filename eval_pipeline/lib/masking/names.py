"""The optional name tier of masking: person names through Presidio's analyzer over a spaCy model.

Names have no pattern, so they need a language model; the default install works without it. To switch
it on, install the extra yourself (``pip install presidio-analyzer`` and a spaCy model such as
``python -m spacy download en_core_web_sm``) and set ``privacy.name_detector: presidio`` in the config.
Only Presidio's PERSON entity is used: every pattern entity is already found by the detectors.
"""

from collections.abc import Callable
from typing import Any

import polars as pl

from eval_pipeline.lib.masking.detectors import normal_form
from eval_pipeline.lib.masking.pseudonyms import PLACEHOLDER_RE, tokenizer

# A name detector: the (start, end) spans of person names in one text.
NameDetector = Callable[[str], list[tuple[int, int]]]

DETECTORS = ("presidio",)


def load(detector: str, spacy_model: str = "en_core_web_sm", min_score: float = 0.6) -> NameDetector | None:
    """The configured name detector, or None when ``detector`` is empty (switched off)."""
    if not detector:
        return None
    if detector not in DETECTORS:
        msg = (f"privacy.name_detector is {detector!r}; use one of {list(DETECTORS)} or leave it empty to "
               "switch name detection off.")
        raise ValueError(msg)
    analyzer = _presidio(spacy_model)

    def names(text: str) -> list[tuple[int, int]]:
        return [(r.start, r.end) for r in analyzer.analyze(text=text, entities=["PERSON"], language="en")
                if r.score >= min_score]

    return names


def _presidio(spacy_model: str) -> Any:
    try:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError:
        msg = ("privacy.name_detector is 'presidio' but presidio-analyzer is not installed: run "
               "`pip install presidio-analyzer` and `python -m spacy download en_core_web_sm`, or leave "
               "privacy.name_detector empty.")
        raise RuntimeError(msg) from None
    try:
        provider = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": spacy_model}]})
        return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    except OSError:
        msg = (f"The spaCy model {spacy_model!r} for privacy.name_detector is not installed: run "
               f"`python -m spacy download {spacy_model}` or set privacy.spacy_model to one you have.")
        raise RuntimeError(msg) from None


def mask_names(texts: pl.Series, key: bytes, names: NameDetector) -> tuple[pl.Series, pl.DataFrame]:
    """Person names through the name detector: one Python call per text, so it is opt-in. Returns the texts
    and one row per name masked (``index`` into ``texts``, ``kind`` PERSON); a span that overlaps a name
    already taken or holds a placeholder is left alone."""
    token = tokenizer(key)
    out, hits = [], []
    for i, text in enumerate(texts.to_list()):
        if not text:
            out.append(text)
            continue
        parts, last = [], 0
        for start, end in sorted(names(text)):
            if start < last or PLACEHOLDER_RE.search(text[start:end]):
                continue
            parts += [text[last:start], token("PERSON", normal_form("PERSON", text[start:end]))]
            last = end
            hits.append(i)
        out.append("".join(parts) + text[last:])
    entities = pl.DataFrame({"index": hits, "kind": ["PERSON"] * len(hits)},
                            schema={"index": pl.UInt32, "kind": pl.String})
    return pl.Series(texts.name, out, dtype=pl.String), entities
