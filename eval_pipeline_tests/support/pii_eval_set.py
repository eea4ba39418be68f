"""An independent, labelled evaluation set for the masking of personal data in trace text.

Deterministic per seed: ``build(n_texts, seed)`` returns ``LabelledText`` rows, each a support-chat request, an
assistant answer, a tool output or a trace log line, with every planted entity's exact span, type, format
variant and locale, and every planted negative (trace ids, hashes, timestamps, order numbers, paths, attribute
names, amounts, model names, ...) that a masker must leave alone.

Written on purpose without reading the project's detectors: values come from Faker's data for 27 locales
(``pii_eval_values``), sentences from templates in ten languages (``pii_eval_templates``), so the set measures
the detectors on text nobody here wrote them from.

What "masked" means is defined here, next to the labels, so the scorer and the generator agree:

- an entity is *leaked* when one of its needles is still found in a text: digit-string needles (phone, card,
  SSN) are searched in the digits of number-like runs, so reformatting is not masking; IBANs in the compact,
  upper-cased alphanumeric runs; e-mail local parts, URLs and IPv6 addresses case-insensitively; names,
  addresses, places and companies exactly, as whole words;
- a negative is *intact* when its value is still in the text verbatim, not glued to a letter or digit.

The generator keeps only texts where each needle and each negative is found exactly once, inside its own span,
so the identity masker leaks every entity and a masker that replaces exactly the labelled spans leaks none.
"""

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from faker import Faker

from eval_pipeline_tests.support import pii_eval_values as values
from eval_pipeline_tests.support.pii_eval_templates import NEGATIVE_LINES, TEMPLATES

KINDS = ("EMAIL", "PHONE", "CARD", "IBAN", "URL", "IP", "SSN", "PERSON", "ADDRESS", "LOCATION", "ORGANIZATION")
STRUCTURED = ("EMAIL", "PHONE", "CARD", "IBAN", "URL", "IP", "SSN")
DIGIT_KINDS = ("PHONE", "CARD", "SSN")
LOCALES = tuple(values.LOCALES)
NEGATIVE_KINDS = tuple(values.NEGATIVES)

_SLOT = re.compile(r"\{([A-Za-z_0-9]+)\}")
_NUMBER_RUN = re.compile(r"\d(?:[\d\s().+/-]*\d)?")
_ALNUM_RUN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ]*[A-Za-z0-9])?")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
# Letters of the Latin, Greek and Cyrillic scripts and digits: what a whole-word needle must not touch.
# (Not \w: in Japanese text the neighbouring kana are \w, yet a Latin name next to them is still a whole word.)
_W = r"0-9A-Za-z_\u00c0-\u024f\u0370-\u04ff"


@dataclass(frozen=True)
class Entity:
    kind: str
    start: int
    end: int
    value: str
    needles: tuple[str, ...]
    variant: str
    locale: str


@dataclass(frozen=True)
class Negative:
    kind: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class LabelledText:
    text: str
    locale: str
    language: str
    entities: tuple[Entity, ...]
    negatives: tuple[Negative, ...]


# Characters that must not touch a needle on its left / right, by kind (a needle is a whole word, a whole
# address, ...). Checked by hand: a compiled Unicode class per needle costs more than the whole search.
_LEFT = {"EMAIL": re.compile(rf"[{_W}.+-]"), "URL": re.compile(rf"[{_W}.-]"), "IP": re.compile(rf"[{_W}.:]")}
_RIGHT = {"EMAIL": re.compile(r"(?!)"), "URL": re.compile(rf"[{_W}/]"), "IP": re.compile(rf"[{_W}:]|\.\d")}
_WORD_CHAR = re.compile(rf"[{_W}]")
_CASELESS = ("EMAIL", "URL", "IP")


@cache
def _literal(needle: str, caseless: bool) -> re.Pattern[str]:
    return re.compile(re.escape(needle), re.IGNORECASE if caseless else 0)


def needle_spans(kind: str, needle: str, text: str) -> list[tuple[int, int]]:
    """Where ``needle`` of an entity of ``kind`` is still found in ``text`` (see the module docstring)."""
    if kind in DIGIT_KINDS:
        return [m.span() for m in _NUMBER_RUN.finditer(text) if needle in re.sub(r"\D", "", m.group())]
    if kind == "IBAN":
        return [m.span() for m in _ALNUM_RUN.finditer(text) if needle in m.group().replace(" ", "").upper()]
    spans = [m.span() for m in _literal(needle, kind in _CASELESS).finditer(text)]
    if _CJK.search(needle):
        return spans
    left, right = _LEFT.get(kind, _WORD_CHAR), _RIGHT.get(kind, _WORD_CHAR)
    return [(s, e) for s, e in spans if not (s and left.match(text, s - 1)) and not right.match(text, e)]


def leaked(entity: Entity, text: str) -> bool:
    return any(needle_spans(entity.kind, needle, text) for needle in entity.needles)


_ALNUM = re.compile(r"[A-Za-z0-9]")


def negative_spans(value: str, text: str) -> list[tuple[int, int]]:
    """Where ``value`` stands verbatim in ``text``, not glued to a letter or digit."""
    spans = [m.span() for m in _literal(value, False).finditer(text)]
    return [(s, e) for s, e in spans if not (s and _ALNUM.match(text, s - 1)) and not _ALNUM.match(text, e)]


def intact(negative: Negative, text: str) -> bool:
    return bool(negative_spans(negative.value, text))


def _consistent(row: LabelledText) -> bool:
    """Each needle and negative is found exactly once, inside its own span."""
    for e in row.entities:
        if not e.needles:
            msg = f"the {e.kind} value {e.value!r} has nothing to check: its generator must give needles"
            raise AssertionError(msg)
        for needle in e.needles:
            spans = needle_spans(e.kind, needle, row.text)
            if len(spans) != 1 or not (spans[0][0] < e.end and e.start < spans[0][1]):
                return False
    for neg in row.negatives:
        if negative_spans(neg.value, row.text) != [(neg.start, neg.end)]:
            return False
    return True


@cache
def _faker(locale: str) -> Faker:
    """One Faker per locale and process (building one costs ~0.1 s); each build re-seeds it.

    Faker's it_IT cities are a list made from a set, in an order that changes with the process's hash seed;
    sorted, the same seed gives the same texts in every process.
    """
    fake = Faker(locale)
    address = fake.provider("faker.providers.address")
    if isinstance(getattr(address, "cities", None), list):
        address.cities = sorted(address.cities)
    return fake


def _is_record(template: str) -> bool:
    """JSON and log records go on a line of their own; chat sentences run on."""
    return template.startswith(("{", "[")) or template in NEGATIVE_LINES


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._seed = seed
        self._fakers: dict[str, Faker] = {}
        self._by_kind = {
            lang: {k: [t for t in ts if "{" + k + "}" in t] for k in KINDS} for lang, ts in TEMPLATES.items()
        }

    def faker(self, locale: str) -> Faker:
        if locale not in self._fakers:
            fake = _faker(locale)
            fake.seed_instance(f"{self._seed}/{locale}")
            self._fakers[locale] = fake
        return self._fakers[locale]

    def entity_value(self, kind: str, locale: str) -> values.Value:
        fake, rng = self.faker(locale), self.rng
        if kind == "CARD":
            return values.card(self.faker, rng)
        if kind == "IBAN":
            return values.iban(self.faker, rng, locale)
        if kind == "SSN":
            return values.ssn(self.faker, rng)
        if kind == "IP":
            return values.ip(fake, rng)
        generate: Callable[..., values.Value] = {
            "PERSON": values.person, "EMAIL": values.email, "PHONE": values.phone, "URL": values.url,
            "ADDRESS": values.address, "LOCATION": values.location, "ORGANIZATION": values.organization,
        }[kind]
        return generate(fake, rng, locale)

    def fill(self, templates: list[str], locale: str, language: str) -> LabelledText:
        text, entities, negatives = "", [], []
        for i, template in enumerate(templates):
            if i:
                text += "\n" if _is_record(template) or _is_record(templates[i - 1]) else " "
            pos = 0
            for m in _SLOT.finditer(template):
                text += template[pos:m.start()]
                slot, start = m.group(1), len(text)
                if slot.isupper():
                    v = self.entity_value(slot, locale)
                    text += v.text
                    entities.append(Entity(slot, start, len(text), v.text, v.needles, v.variant, locale))
                else:
                    value = values.NEGATIVES[slot](self.rng)
                    text += value
                    negatives.append(Negative(slot, start, len(text), value))
                pos = m.end()
            text += template[pos:]
        return LabelledText(text, locale, language, tuple(entities), tuple(negatives))

    def templates(self, focus: str | None, language: str) -> list[str]:
        rng = self.rng
        if focus is None:
            return rng.sample(NEGATIVE_LINES, rng.randint(1, 4))
        chosen = [rng.choice(self._by_kind[language][focus] or self._by_kind["en"][focus])]
        if rng.random() < 0.35:
            chosen.append(rng.choice([t for t in TEMPLATES[language] if t != chosen[0]]))
        if rng.random() < 0.45:
            chosen.insert(rng.randint(0, len(chosen)), rng.choice(NEGATIVE_LINES))
        return chosen

    def text(self, focus: str | None) -> LabelledText:
        locale = self.rng.choice(LOCALES)
        native = values.LOCALES[locale][0]
        language = native if native != "en" and self.rng.random() < 0.7 else "en"
        for _ in range(100):
            row = self.fill(self.templates(focus, language), locale, language)
            if _consistent(row):
                return row
        msg = f"could not build a consistent {focus} text for {locale}: a generator keeps repeating a value"
        raise RuntimeError(msg)


def build(n_texts: int = 3000, seed: int = 0) -> list[LabelledText]:
    """``n_texts`` labelled texts; the same seed gives the same texts (with the same Faker version).

    One text in twelve holds negatives only; the others each plant one entity type in turn (and sometimes
    more entities and negatives besides), so every type gets about the same number of examples.
    """
    builder = _Builder(seed)
    focus: tuple[str | None, ...] = (*KINDS, None)
    return [builder.text(focus[i % len(focus)]) for i in range(n_texts)]
