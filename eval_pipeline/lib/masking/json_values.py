"""The string values of a JSON text (a tool call's arguments or result), for the name tier.

spaCy reads a compact JSON document as one odd token stream and misses the names in it
(``{"customer":"Margaret Thornbury"}`` gives nothing, the value alone gives a PERSON), and a span it tags may
cross a quote. So the name tier reads each string value on its own, decoded, and a masked value is written
back as a JSON string literal in the place of the old one: keys, numbers, ids in other values and the layout
stay byte for byte, and the text stays valid JSON. A text that is not a JSON object, array or string is read
whole.
"""

import json
import re
from dataclasses import dataclass

# A JSON string literal. In a valid document no quote stands outside a string, so scanning from the left
# meets each literal at its opening quote and this ends it at its closing one.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_KEY_AFTER = re.compile(r"\s*:")


@dataclass(frozen=True)
class Values:
    """The string values of one JSON text that may hold a name: ``(start, end)`` of each literal in the text
    and its decoded value."""

    text: str
    spans: tuple[tuple[int, int], ...]
    values: tuple[str, ...]

    def replaced(self, masked: list[str]) -> str:
        """The text with each value whose masked form differs written back as a JSON string literal."""
        parts, last = [], 0
        for (start, end), old, new in zip(self.spans, self.values, masked, strict=True):
            if new == old:
                continue
            parts += [self.text[last:start], json.dumps(new, ensure_ascii=False)]
            last = end
        return "".join(parts) + self.text[last:] if parts else self.text


def string_values(text: str | None) -> Values | None:
    """The string values (not keys) of ``text`` that hold a letter, when it is a JSON object, array or
    string; None when it is not JSON (read it whole)."""
    if not text or text.lstrip()[:1] not in ('{', '[', '"'):
        return None
    try:
        json.loads(text)
    except ValueError:
        return None
    spans, values = [], []
    for m in _STRING.finditer(text):
        if _KEY_AFTER.match(text, m.end()):
            continue
        value = json.loads(m.group())
        if any(c.isalpha() for c in value):  # no letter, no name
            spans.append(m.span())
            values.append(value)
    return Values(text, tuple(spans), tuple(values))
