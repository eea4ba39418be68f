"""Mask personal data in trace text with typed, keyed pseudonyms such as ``<EMAIL:7f3a9c>``.

The same value gives the same token everywhere (so deduplication and per-user analysis still work),
the token cannot be reversed without the key, and another key gives other tokens.
This first version detects e-mail addresses and phone numbers; later detectors plug into DETECTORS.
"""

import hashlib
import hmac
import re
import secrets
from collections import Counter
from collections.abc import Callable
from pathlib import Path

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![\w-])")
# International (+CC ...) or common national formats: (415) 555-0132, 415-555-0132, 020 7946 0958.
_PHONE = re.compile(
    r"(?<![\w+.:/-])(?:"
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,8}){1,4}"
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}"
    r"|\d{3}[.-]\d{3}[.-]\d{4}"
    r"|0\d{2,4}[ ]\d{3,4}[ ]\d{3,4}"
    r")(?![\w.:/-])"
)


def _phone_ok(s: str) -> bool:
    digits = sum(c.isdigit() for c in s)
    return 7 <= digits <= 15


DETECTORS: dict[str, tuple[re.Pattern[str], Callable[[str], bool] | None]] = {
    "EMAIL": (_EMAIL, None),
    "PHONE": (_PHONE, _phone_ok),
}


def pseudonym(kind: str, value: str, key: bytes) -> str:
    digest = hmac.new(key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()[:10]
    return f"<{kind}:{digest}>"


def mask_text(text: str | None, key: bytes, counts: Counter | None = None) -> str | None:
    """Replace every detected entity; ``counts`` (by entity type) is updated in place."""
    if not text:
        return text
    # Cheap pre-filter: neither detector can match text without '@' or a digit.
    if "@" not in text and not any(c.isdigit() for c in text):
        return text
    for kind, (pattern, valid) in DETECTORS.items():
        def repl(m: re.Match[str], kind: str = kind, valid: Callable[[str], bool] | None = valid) -> str:
            if valid is not None and not valid(m.group(0)):
                return m.group(0)
            if counts is not None:
                counts[kind] += 1
            return pseudonym(kind, m.group(0).lower() if kind == "EMAIL" else _digits(m.group(0)), key)

        text = pattern.sub(repl, text)
    return text


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit() or c == "+")


def find_entities(text: str | None) -> list[tuple[str, str]]:
    """(type, value) of every entity still in the text: the masking check uses it."""
    if not text:
        return []
    out = []
    for kind, (pattern, valid) in DETECTORS.items():
        for m in pattern.finditer(text):
            if valid is None or valid(m.group(0)):
                out.append((kind, m.group(0)))
    return out


def pseudonymise_id(kind: str, value: str | None, key: bytes) -> str | None:
    return None if value is None else pseudonym(kind, value, key)


def load_or_create_key(explicit: str | None, key_file: Path) -> bytes:
    """The masking key: ``EVAL_MASKING_KEY`` if set, else a generated key kept next to the warehouse
    (outside its tables), created on first use."""
    if explicit:
        return explicit.encode()
    if key_file.is_file():
        return key_file.read_bytes().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    key_file.touch(mode=0o600)
    key_file.write_bytes(key)
    return key


TEXT_COLUMNS = ("request", "response", "error_message")


def mask_traces(rows: list[dict], key: bytes) -> tuple[list[dict], Counter]:
    """Mask every text a later step can show or send, and pseudonymise session and user ids.

    Each row gains ``pii_found`` (counts by entity type); the returned Counter sums them.
    """
    total: Counter = Counter()
    out = []
    for row in rows:
        found: Counter = Counter()
        r = dict(row)
        for col in TEXT_COLUMNS:
            r[col] = mask_text(r.get(col), key, found)
        r["tool_calls"] = [
            {**c, "arguments": mask_text(c.get("arguments"), key, found),
             "result": mask_text(c.get("result"), key, found)}
            for c in (r.get("tool_calls") or [])
        ]
        r["retrieved_context"] = [mask_text(d, key, found) for d in (r.get("retrieved_context") or [])]
        r["session_id"] = pseudonymise_id("SESSION", r.get("session_id"), key)
        r["user_id"] = pseudonymise_id("USER", r.get("user_id"), key)
        r["pii_found"] = dict(found)
        total.update(found)
        out.append(r)
    return out, total
