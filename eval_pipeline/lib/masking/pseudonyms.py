"""Keyed pseudonyms such as ``<EMAIL:7f3a9c01b2>``: the one formula every token is made with, the one pattern
that recognises a token, and the key.

The same value gives the same token everywhere (so deduplication and per-user analysis still work), the token
cannot be reversed without the key, and another key gives other tokens.
"""

import functools
import hashlib
import re
import secrets
from collections.abc import Callable
from pathlib import Path

# Hex digits of a token's digest: 40 bits, so equal values meet and different ones practically never.
TOKEN_HEX = 10


def _token_pattern(kind: str) -> str:
    return rf"<{kind}:[0-9a-f]{{{TOKEN_HEX}}}>"


# A token of any kind inside a text, as regex text that Rust's regex (polars) and Python's re read alike.
PLACEHOLDER = _token_pattern("[A-Z_]+")
PLACEHOLDER_RE = re.compile(PLACEHOLDER)


def token_regex(kind: str) -> str:
    """A whole value that is a token of ``kind`` (anchored): the contract of a pseudonymised id column."""
    return f"^{_token_pattern(re.escape(kind))}$"


def tokenizer(key: bytes) -> Callable[[str, str], str]:
    """``token(kind, value) -> "<KIND:digest>"`` for one key: the pseudonym formula, keyed BLAKE2b (a MAC by
    design, and three times faster than HMAC-SHA256 here) of the entity's type and value.

    The key is prepared once per tokenizer, so a loop over a partition's distinct entities pays only the hash.
    ``value`` is hashed as given: callers pass the entity's normal form (``detectors.normal_form``).
    """
    # The keyed state is made once and copied per value: a copy costs half of a keyed start.
    keyed = hashlib.blake2b(key=_mac_key(key), digest_size=TOKEN_HEX // 2)

    def token(kind: str, value: str) -> str:
        h = keyed.copy()
        h.update(f"{kind}\x00{value}".encode())
        return f"<{kind}:{h.hexdigest()}>"

    return token


def pseudonym(kind: str, value: str, key: bytes) -> str:
    """The token of one value (see :func:`tokenizer`; use that in a loop)."""
    return tokenizer(key)(kind, value)


@functools.lru_cache(maxsize=8)
def _mac_key(key: bytes) -> bytes:
    # BLAKE2b takes keys of up to 64 bytes; a longer EVAL_MASKING_KEY is hashed down to 64.
    return key if len(key) <= 64 else hashlib.blake2b(key).digest()


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
