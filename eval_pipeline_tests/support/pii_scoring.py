"""Score a masker on the independent PII evaluation set (``pii_eval_set``).

A masker is any ``mask(texts: list[str]) -> list[str]``. It is judged by what survives in its output, never by
the form of its placeholders:

- recall, per entity type: the share of planted entities none of whose needles is left in the masked text
  (``pii_eval_set.leaked``: a phone's national number, a card's or SSN's digits, however reformatted; every
  name part of a person), with a 95 % Wilson interval; also per format variant and per locale;
- structured recall: all types but PERSON, ADDRESS, LOCATION and ORGANIZATION together; names recall: PERSON;
- over-masking: among the word tokens of each text outside the entity spans, the share missing from the
  output (original and output token sequences aligned with ``difflib``);
- negatives altered: planted trace identifiers, numbers and names no longer in the output verbatim.

Tokens and negatives of one text are not independent draws, so their intervals are narrower than the truth;
entity intervals are honest up to the few texts that plant two entities of a type.
"""

import difflib
import math
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eval_pipeline_tests.support.pii_eval_set import KINDS, STRUCTURED, LabelledText, intact, leaked

Masker = Callable[[list[str]], list[str]]
_WORD = re.compile(r"\w+")


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k / n; (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    """``k`` of ``n``, with its 95 % Wilson interval."""

    k: int
    n: int

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    def __str__(self) -> str:
        lo, hi = self.interval
        return f"{self.value:6.3f}  [{lo:.3f}, {hi:.3f}]  ({self.k}/{self.n})"


@dataclass(frozen=True)
class Score:
    recall: dict[str, Rate]
    structured: Rate
    names: Rate
    by_variant: dict[tuple[str, str], Rate]
    by_locale: dict[tuple[str, str], Rate]
    over_masking: Rate
    negatives_altered: Rate
    altered_by_kind: dict[str, Rate]
    missed: dict[str, list[str]] = field(repr=False)
    altered: dict[str, list[str]] = field(repr=False)

    def format_table(self, variants: str = "missed", locales: bool = False, examples: int = 0) -> str:
        """The scores as plain-text tables.

        ``variants``: "all" rows of type / format variant (card brand, IBAN country, layout, ...), only those
        with a "missed" entity, or "none"; ``locales`` adds type / locale rows; ``examples`` prints that many
        missed values (and altered negatives) per type.
        """
        lines = [f"{'type':<24} {'recall':>6}  95 % interval      (masked/planted)"]
        lines += [f"{kind:<24} {rate}" for kind, rate in self.recall.items()]
        lines += [f"{'structured (' + str(len(STRUCTURED)) + ' types)':<24} {self.structured}",
                  f"{'names (PERSON)':<24} {self.names}", ""]
        lines += [f"{'over-masking':<24} {self.over_masking}  non-entity word tokens lost",
                  f"{'negatives altered':<24} {self.negatives_altered}"]
        lines += [f"  {kind:<22} {rate}" for kind, rate in self.altered_by_kind.items() if rate.k]
        if variants != "none":
            rows = {key: rate for key, rate in self.by_variant.items() if variants == "all" or rate.k < rate.n}
            title = "type / variant" + ("" if variants == "all" else " (variants with a miss; the others all masked)")
            lines += ["", f"{title:<36} {'recall':>6}  95 % interval"]
            lines += [f"{kind + ' / ' + variant:<36} {rate}" for (kind, variant), rate in rows.items()]
        if locales:
            lines += ["", f"{'type / locale':<36} {'recall':>6}  95 % interval"]
            lines += [f"{kind + ' / ' + loc:<36} {rate}" for (kind, loc), rate in self.by_locale.items()]
        if examples:
            lines += ["", "missed (values left in the masked text):"]
            for kind, values in self.missed.items():
                lines += [f"  {kind:<13} {v!r}" for v in values[:examples]]
            lines += ["altered negatives:"]
            for kind, values in self.altered.items():
                lines += [f"  {kind:<13} {v!r}" for v in values[:examples]]
        return "\n".join(lines)


def _lost_tokens(row: LabelledText, masked: str) -> tuple[int, int]:
    """(non-entity word tokens of the original, how many of them are missing from ``masked``)."""
    tokens = list(_WORD.finditer(row.text))
    outside = [not any(m.start() < e.end and e.start < m.end() for e in row.entities) for m in tokens]
    matcher = difflib.SequenceMatcher(None, [m.group() for m in tokens], _WORD.findall(masked), autojunk=False)
    kept = {a + i for a, _, size in matcher.get_matching_blocks() for i in range(size)}
    return sum(outside), sum(1 for i, out in enumerate(outside) if out and i not in kept)


def _rates(counts: dict, order: Sequence | None = None) -> dict:
    keys = order if order is not None else sorted(counts)
    return {key: Rate(*counts[key]) for key in keys if key in counts}


def score(rows: Sequence[LabelledText], mask: Masker) -> Score:
    """Run ``mask`` once over the texts of ``rows`` and score what survives."""
    texts = [row.text for row in rows]
    masked = list(mask(list(texts)))
    if len(masked) != len(texts):
        msg = f"the masker returned {len(masked)} texts for {len(texts)}: it must return one text per input, in order"
        raise ValueError(msg)
    by_kind: dict = defaultdict(lambda: [0, 0])
    by_variant: dict = defaultdict(lambda: [0, 0])
    by_locale: dict = defaultdict(lambda: [0, 0])
    negatives: dict = defaultdict(lambda: [0, 0])
    missed: dict[str, list[str]] = defaultdict(list)
    altered: dict[str, list[str]] = defaultdict(list)
    tokens = lost = 0
    for row, out in zip(rows, masked, strict=True):
        for e in row.entities:
            hit = 0 if leaked(e, out) else 1
            facets = [by_variant[e.kind, part] for part in e.variant.split("/")]  # brand / layout, each alone
            for counts in (by_kind[e.kind], by_locale[e.kind, e.locale], *facets):
                counts[0] += hit
                counts[1] += 1
            if not hit:
                missed[e.kind].append(e.value)
        for neg in row.negatives:
            changed = 0 if intact(neg, out) else 1
            negatives[neg.kind][0] += changed
            negatives[neg.kind][1] += 1
            if changed:
                altered[neg.kind].append(neg.value)
        n, k = _lost_tokens(row, out)
        tokens += n
        lost += k

    def total(kinds: Sequence[str]) -> Rate:
        present = [by_kind[k] for k in kinds if k in by_kind]
        return Rate(sum(c[0] for c in present), sum(c[1] for c in present))

    return Score(
        recall=_rates(by_kind, KINDS),
        structured=total(STRUCTURED),
        names=total(("PERSON",)),
        by_variant=_rates(by_variant),
        by_locale=_rates(by_locale),
        over_masking=Rate(lost, tokens),
        negatives_altered=Rate(sum(c[0] for c in negatives.values()), sum(c[1] for c in negatives.values())),
        altered_by_kind=_rates(negatives),
        missed=dict(missed),
        altered=dict(altered),
    )
