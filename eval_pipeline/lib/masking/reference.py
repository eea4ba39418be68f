"""The same detectors through Python's ``re``, one string at a time: the benchmark's baseline (bench/masking.py
prints the engine's speed as a ratio to it) and the tests' oracle (the engine must give the same output).

Not on the pipeline's path: the engine (engine.py) masks whole columns.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterable

from eval_pipeline.lib.masking.detectors import STAGES, normal_form
from eval_pipeline.lib.masking.engine import PASSES, PATTERNS
from eval_pipeline.lib.masking.pseudonyms import PLACEHOLDER_RE, tokenizer
from eval_pipeline.lib.masking.replace import NEUTRAL

_PY = tuple(re.compile(p) for p in PATTERNS)


def re_matches(text: str, stage: int = 0) -> Iterable[tuple[int, str, str]]:
    """(start of the value in ``text``, kind, accepted value) of every entity of a stage, found with ``re``."""
    detectors = STAGES[stage]
    for m in _PY[stage].finditer(" " + text):
        i = next(j for j in range(len(detectors)) if m.group(f"v{j}") is not None)
        tail = m.group(f"t{i}") if detectors[i].tail else ""
        accepted = detectors[i].validate(m.group(f"v{i}"), tail or "")
        if accepted:
            kind, accepted = accepted if isinstance(accepted, tuple) else (detectors[i].kind, accepted)
            yield m.start(f"v{i}") - 1, kind, accepted


def _neutral_re(text: str) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with placeholders set aside as ``replace.NEUTRAL`` (as the engine does), and for each its
    position in the neutral text and the length it stands for."""
    out, spans, last, shift = [], [], 0, 0
    for m in PLACEHOLDER_RE.finditer(text):
        out.append(text[last:m.start()])
        spans.append((m.start() - shift, m.end() - m.start()))
        shift += m.end() - m.start() - len(NEUTRAL)
        out.append(NEUTRAL)
        last = m.end()
    out.append(text[last:])
    return "".join(out), spans


def mask_text_re(text: str | None, key: bytes, counts: Counter | None = None) -> str | None:
    """One text masked as :func:`engine.mask_series` masks it; ``counts`` (by entity type) is updated in place."""
    if not text:
        return text
    token = tokenizer(key)
    for stage in range(len(STAGES)):
        text = _mask_stage_re(text, stage, token, counts)
    return text


def _mask_stage_re(text: str, stage: int, token: Callable[[str, str], str], counts: Counter | None) -> str:
    for _ in range(PASSES):
        neutral, spans = _neutral_re(text)
        out, last = [], 0
        for start, kind, value in re_matches(neutral, stage):
            # back to positions in ``text``: add what the placeholders before ``start`` stand for
            shift = sum(n - len(NEUTRAL) for p, n in spans if p < start)
            begin = start + shift
            out += [text[last:begin], token(kind, normal_form(kind, value))]
            last = begin + len(value)
            if counts is not None:
                counts[kind] += 1
        if not out:
            break
        text = "".join(out) + text[last:]
    return text
