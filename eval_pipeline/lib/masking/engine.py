"""Mask personal data and secrets in trace text with typed, keyed pseudonyms such as ``<EMAIL:7f3a9c01b2>``.

The same value gives the same token everywhere (so deduplication and per-user analysis still work),
the token cannot be reversed without the key, and another key gives other tokens.

How it stays fast: every detector is one branch of a single regular expression (ASCII classes only,
so Rust's lazy DFA keeps it at hundreds of MB/s). One ``extract_all`` pass of it over the whole
column, in Rust, is also the pre-filter: texts without a candidate are never touched again. Only the
*distinct* candidates come back to Python: a second Rust pass over them alone wraps each in
control-character markers that say which branch matched and what follows it, then each is validated
once (Luhn and issuer prefix, mod-97, octet ranges, ...) and, when valid, gets its keyed token once;
an Aho-Corasick ``replace_many`` over the texts that held a candidate swaps every candidate for its
replacement. A candidate consumes the character before it, so a second pass over the changed texts
finds an entity that directly follows another (``user:pw@10.0.0.5``). No Python code runs per text.

The regular expression uses only syntax that Rust's ``regex`` and Python's ``re`` read alike, so
:func:`find_entities` and :func:`mask_text_re` (the plain-``re`` reference the benchmark compares
against) apply exactly the same detectors one string at a time.
"""

import functools
import hashlib
import ipaddress
import os
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

# Markers written by the Rust pass; no branch matches them, so a whole match never contains one.
_OPEN, _SEP, _TAIL, _CLOSE = "\x01", "\x1e", "\x1f", "\x02"
_PLACEHOLDER = re.compile(r"<[A-Z_]+:[0-9a-f]{10}>")
_PLACEHOLDER_RS = r"<[A-Z_]+:[0-9a-f]{10}>"
TOKEN_HEX = 10


@dataclass(frozen=True)
class Detector:
    """One branch of the combined expression.

    ``pattern`` matches the value; ``before`` lists characters that must not precede it (a left
    boundary, since Rust's regex has no look-behind); ``keep`` matches a prefix that stays in clear
    (``password=``); ``tail`` matches what directly follows the value, handed to ``validate`` with it
    (a non-empty tail usually means the value is part of a longer identifier).
    ``validate(value, tail)`` returns the part of ``value`` to mask (a prefix of it), or None.
    """

    kind: str
    pattern: str
    validate: Callable[[str, str], str | None]
    before: str = ""
    keep: str = ""
    tail: str = ""


# ----------------------------------------------------------------------------------- validators


def _no_tail(value: str, tail: str) -> str | None:
    return value if not tail else None


_NOT_DIGIT = re.compile(r"[^0-9]")
_NOT_PHONE = re.compile(r"[^0-9+]")


def _digits(s: str) -> str:
    return _NOT_DIGIT.sub("", s)


def _email(value: str, tail: str) -> str | None:
    if tail:
        return None
    tld = value.rsplit(".", 1)[-1].lower()
    # icon@2x.png, logo@3x.webp and friends are file names, not addresses.
    return None if tld in _FILE_EXTENSIONS else value


_FILE_EXTENSIONS = frozenset(
    "png jpg jpeg gif svg webp bmp ico tif tiff pdf js mjs cjs ts tsx jsx py pyc rb go rs java kt c h cc cpp hpp "
    "json yaml yml toml ini cfg conf lock md txt csv tsv log html htm css scss xml zip gz tar whl so dll exe".split())


def _phone(value: str, tail: str) -> str | None:
    if tail:
        return None
    n = len(_digits(value))
    if value.startswith("+"):
        return value if 8 <= n <= 15 else None
    return value if 9 <= n <= 13 else None


def _luhn(number: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(number)):
        d = ord(c) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# Issuer prefixes (IIN) of the card networks: a Luhn-valid 19-digit Unix timestamp is not a card.
_CARD_IIN = re.compile(r"4|5[1-5]|2[2-7]|3[47]|3[068]|35|6011|64[4-9]|65|62|5[06-9]|6[0-9]")


def _card(value: str, tail: str) -> str | None:
    if tail:
        return None
    seps = {c for c in value if not c.isdigit()}
    if len(seps) > 1:
        return None
    # A grouped number followed by another group ("4111 1111 1111 1111 2026"): try without the last one.
    candidates = [value]
    if seps:
        head, _, _ = value.rpartition(next(iter(seps)))
        candidates.append(head)
    for v in candidates:
        d = _digits(v)
        if 13 <= len(d) <= 19 and _CARD_IIN.match(d) and _luhn(d) and len(set(d)) > 1:
            return v
    return None


_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


def _iban(value: str, tail: str) -> str | None:
    want = _IBAN_LENGTHS.get(value[:2])
    if want is None:
        return None
    # Cut the match to the country's length: the pattern may have run into the next capitalised word.
    n = 0
    for i, c in enumerate(value):
        if c != " ":
            n += 1
            if n == want:
                cut = value[: i + 1]
                break
    else:
        return None
    if cut == value and tail:
        return None
    compact = cut.replace(" ", "")
    rotated = compact[4:] + compact[:4]
    return cut if int("".join(str(int(c, 36)) for c in rotated)) % 97 == 1 else None


def _ssn(value: str, tail: str) -> str | None:
    d = _digits(value)
    area, group, serial = d[:3], d[3:5], d[5:]
    ok = len(d) == 9 and area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"
    return value if ok and not tail else None


def _ipv4(value: str, tail: str) -> str | None:
    if tail or any(int(p) > 255 or (len(p) > 1 and p[0] == "0") for p in value.split(".")):
        return None
    return value


def _ipv6(value: str, tail: str) -> str | None:
    if tail or not any(c.isalnum() for c in value):
        return None
    if "::" not in value and value.count(":") != 7:
        return None
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return None
    return value


def _url_credentials(value: str, tail: str) -> str | None:
    return value if tail == "@" else None


def _secret_value(value: str, tail: str) -> str | None:
    v = value.strip("\"'")
    if len(v) < 4 or v.lower() in _NOT_SECRETS or v.startswith(("<", "${", "{{", "%(")) or set(v) <= {"*", "x", "X"}:
        return None
    return value


_NOT_SECRETS = frozenset("null none true false undefined redacted masked hidden required optional string".split())


def _token(value: str, tail: str) -> str | None:
    return value if len(value) >= 6 else None


def _anything(value: str, tail: str) -> str | None:
    return value


# ------------------------------------------------------------------------------------ detectors

# Every class is spelled in ASCII on purpose: Unicode \w, \s or \b in one branch multiply the states of
# the combined automaton and drop Rust's lazy DFA to its slow fallback (0.6 MB/s instead of 180 MB/s).
# Non-ASCII letters count as boundaries, which is what trace text in any language needs here.
_W = "A-Za-z0-9_"
# What directly follows a value and makes it part of something longer (``415-555-0132.json``,
# ``10.0.0.1.5``); a sentence's final dot or comma is not.
_CONT = rf"(?:[{_W}]|[.:/@-][{_W}])*"
_CONT_IP = rf"(?:[{_W}]|[.][{_W}])*"
_WORD_TAIL = rf"[{_W}]*"
_NUM_BEFORE = rf"{_W}+.:/#@-"
_MONTHS = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|januar|februar|märz|mai|juni|juli|oktober|dezember|enero|febrero|"
    r"marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|janvier|février|mars|avril|juin|"
    r"juillet|août|septembre|octobre|novembre|décembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|"
    r"ottobre|dicembre|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|novembro|dezembro)"
)
_CONNECT = r"(?:(?:de|da|das|do|dos|del|della|di|la|le|les|du|des) |d')*"
_NAME = r"[A-ZÀ-ÞÉ][A-Za-zß-ÿ'-]+"

DETECTORS: tuple[Detector, ...] = (
    # Secrets first: a key inside a JSON blob must be typed as a secret, not as what it resembles.
    Detector("SECRET", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
                       r"(?:[^\x01\x02\x1e\x1f]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[A-Za-z0-9+/= \t\r\n\\]*)", _anything),
    Detector("SECRET", r"sk-(?:ant-(?:api[0-9]{2}-)?|proj-|live-|test-|svcacct-)?[A-Za-z0-9_-]{20,}", _anything,
             before=rf"{_W}-"),
    Detector("SECRET", r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}", _no_tail, before=_W, tail=_WORD_TAIL),
    Detector("SECRET", r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})", _anything, before=_W),
    Detector("SECRET", r"xox[abposre]-[A-Za-z0-9-]{10,}", _anything, before=_W),
    Detector("SECRET", r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{8,}", _anything, before=_W),
    Detector("SECRET", r"[A-Za-z0-9._~+/-]{12,}=*", _secret_value, before=_W, keep=r"(?i:bearer)[ \t]+"),
    # URLs: credentials in the authority, tokens in the query.
    Detector("URL_SECRET", r"[^ \t\r\n:/@\x01-\x1f]+:[^ \t\r\n/@\x01-\x1f]+", _url_credentials,
             keep=r"[A-Za-z][A-Za-z0-9+.-]*://", tail="@?"),
    Detector("URL_SECRET", r"[^& \t\r\n#\"'<>\x01-\x1f]+", _token,
             keep=r"[?&](?i:access_token|id_token|token|api_key|apikey|key|secret|client_secret|password|pwd|sig|"
                  r"signature|auth|x-amz-signature|x-amz-credential|x-amz-security-token|session_token)="),
    Detector("SECRET", r"[^ \t\r\n\"',;&}<\x01-\x1f]{3,}", _secret_value, before=_W,
             keep=r"(?i:password|passwd|pwd|passphrase|secret|client_secret|api[_-]?key|apikey|access[_-]?token|"
                  r"auth[_-]?token|refresh[_-]?token|token|private[_-]?key|secret[_-]?key)[\"']?[ \t]*[:=][ \t]*"
                  r"[\"']?"),
    Detector("EMAIL", r"[A-Za-z0-9_.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}", _email,
             before=rf"{_W}.%+-", tail=rf"(?:[{_W}@-]|:[{_W}/])*"),
    Detector("IBAN", r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}", _iban, before=_W, tail=_WORD_TAIL),
    Detector("DOB", r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}[./-][0-9]{1,2}[./-](?:[0-9]{4}|[0-9]{2})"
                    rf"|[0-9]{{1,2}}\.?(?:º|st|nd|rd|th)? (?:de )?{_MONTHS}\.?,?(?: de)? [0-9]{{4}}"
                    rf"|{_MONTHS}\.? [0-9]{{1,2}}(?:st|nd|rd|th)?,? [0-9]{{4}}", _no_tail, before=_W,
             keep=r"(?i:date of birth|d\.o\.b\.|dob|birth ?date|birthday|born(?: on)?|geburtsdatum|geb\.|"
                  r"geboren(?: am)?|fecha de nacimiento|nacid[oa] el|date de naissance|née? le|"
                  r"data di nascita|nat[oa] il|data de nascimento|nascid[oa] em)[ \t:=\"'-]*", tail=_WORD_TAIL),
    Detector("SSN", r"[0-9]{3}-[0-9]{2}-[0-9]{4}", _ssn, before=_NUM_BEFORE, tail=_CONT),
    Detector("SSN", r"[0-9]{3} ?[0-9]{2} ?[0-9]{4}", _ssn, before=_W,
             keep=r"(?i:ssn|social security(?: number| no\.?)?)[ \t:#=\"'-]*", tail=_CONT),
    Detector("CARD", r"[0-9]{4}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,4})?|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5}"
                     r"|[0-9]{13,19}", _card, before=_NUM_BEFORE, tail=_CONT),
    Detector("IP", r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}", _ipv4, before=rf"{_W}.", tail=_CONT_IP),
    Detector("IP", r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}", _ipv6, before=rf"{_W}:.",
             tail=rf"(?:[{_W}]|[.:][{_W}])*"),
    Detector("PHONE", r"\+[0-9]{1,3}[ .-]?(?:\([0-9]{1,4}\)[ .-]?)?[0-9]{1,4}(?:[ .-][0-9]{2,8}){1,4}"
                      r"|\([0-9]{3}\)[ .-]?[0-9]{3}[ .-][0-9]{4}"
                      r"|[0-9]{3}[.-][0-9]{3}[.-][0-9]{4}|[0-9]{3} [0-9]{3} [0-9]{4}"
                      r"|0[0-9]{2,4} [0-9]{3,4} [0-9]{3,4}|0[0-9]{2,4}[ /-][0-9]{5,8}"
                      r"|0[1-9](?:[ .][0-9]{2}){4}|0[0-9]{1,3}-[0-9]{2,4}-[0-9]{4}"
                      r"|[6789][0-9]{2} [0-9]{2} [0-9]{2} [0-9]{2}", _phone, before=_NUM_BEFORE, tail=_CONT),
    Detector("ADDRESS", r"[0-9]{1,5}[A-Za-z]?(?: [A-Z][a-z]+){1,4} (?:Street|St|Road|Rd|Avenue|Ave|Boulevard|Blvd|"
                        r"Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Crescent|Close|Highway|Hwy|Parkway|Pkwy|"
                        r"Square|Sq|Row|Gardens|Mews|Walk|Hill)(?:,? (?:Apt|Suite|Unit|Flat|Floor)\.? ?#?"
                        r"[0-9A-Za-z]{1,5})?", _no_tail, before=_W, tail=_WORD_TAIL),
    Detector("ADDRESS", r"[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|str\.|allee|weg|gasse|platz|ring|damm|ufer|chaussee|"
                        r"steig|pfad|gracht|laan|straat|vej|gatan|gata|veien) ?[0-9]{1,4}[a-z]?", _no_tail,
             before=_W, tail=_WORD_TAIL),
    Detector("ADDRESS", rf"(?:Rua|Avenida|Av\.|Calle|Carrer|Paseo|Via|Viale|Corso|Piazza|Plaza|Praça|Travessa|Largo)"
                        rf" {_CONNECT}{_NAME}(?: {_CONNECT}{_NAME}){{0,3}},? [0-9]{{1,4}}[A-Za-z]?", _no_tail,
             before=_W, tail=_WORD_TAIL),
    Detector("ADDRESS", rf"[0-9]{{1,4}}(?: ?bis| ?ter)?,? (?:rue|avenue|boulevard|bd|place|allée|impasse|chemin|"
                        rf"quai|cours) {_CONNECT}{_NAME}(?: {_CONNECT}{_NAME}){{0,3}}", _anything, before=_W),
)

KINDS: tuple[str, ...] = tuple(dict.fromkeys(d.kind for d in DETECTORS))
# The entity types found by patterns alone (the recall target of design.md section 7).
PATTERN_KINDS = ("EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "URL_SECRET", "SECRET")


def _combined() -> tuple[str, str]:
    """The combined expression and the Rust replacement that wraps every match in markers.

    A branch with a left boundary consumes the character before its value (texts are padded with a
    leading space, so there always is one): a whole match then carries its own context, and the
    same literal elsewhere is the same decision.
    """
    branches = []
    for i, d in enumerate(DETECTORS):
        pre = rf"(?P<p{i}>[^\x01-\x1f{d.before}])" if d.before else rf"(?P<p{i}>)"
        keep = rf"(?P<k{i}>{d.keep})" if d.keep else ""
        tail = rf"(?P<t{i}>{d.tail})" if d.tail else ""
        branches.append(f"{pre}{keep}(?P<v{i}>{d.pattern}){tail}")
    n = len(DETECTORS)
    pattern = "|".join(f"(?:{b})" for b in branches)
    kept = "".join(f"${{p{i}}}" for i in range(n)) + "".join(f"${{k{i}}}" for i in range(n) if DETECTORS[i].keep)
    values = _SEP.join(f"${{v{i}}}" for i in range(n))
    tails = "".join(f"${{t{i}}}" for i in range(n) if DETECTORS[i].tail)
    return pattern, f"{kept}{_OPEN}{values}{_TAIL}{tails}{_CLOSE}"


PATTERN, _REPLACEMENT = _combined()
_PY = re.compile(PATTERN)


# ----------------------------------------------------------------------------------- pseudonyms


def pseudonym(kind: str, value: str, key: bytes) -> str:
    """``<KIND:digest>``: keyed BLAKE2b (a MAC by design, and three times faster than HMAC-SHA256 here)
    of the entity's type and value; 40 bits, so equal values meet and different ones practically never."""
    digest = hashlib.blake2b(f"{kind}\x00{value}".encode(), key=_mac_key(key), digest_size=TOKEN_HEX // 2)
    return f"<{kind}:{digest.hexdigest()}>"


@functools.lru_cache(maxsize=8)
def _mac_key(key: bytes) -> bytes:
    # BLAKE2b takes keys of up to 64 bytes; a longer EVAL_MASKING_KEY is hashed down to 64.
    return key if len(key) <= 64 else hashlib.blake2b(key).digest()


def _normal(kind: str, value: str) -> str:
    """The form that is hashed: the same entity written differently gives the same token."""
    if kind == "EMAIL":
        return value.lower()
    if kind == "PHONE":
        return _NOT_PHONE.sub("", value)
    if kind in ("CARD", "SSN"):
        return _digits(value)
    if kind == "IBAN":
        return value.replace(" ", "").upper()
    if kind == "IP":
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            return value
    if kind == "ADDRESS":
        return " ".join(value.casefold().split())
    return value


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


# ------------------------------------------------------------------------- one candidate, decided


def _decide(matches: list[str], key: bytes | None) -> dict[str, tuple[str | None, str, str]]:
    """Validate each distinct whole match once and compute its token once (``key`` None: no tokens).

    Returns match -> (kind, or None when validation rejected it; the masked value; what the whole
    match becomes).
    """
    marked = pl.Series(matches, dtype=pl.String).str.replace_all(PATTERN, _REPLACEMENT).to_list()
    out = {}
    validators = [d.validate for d in DETECTORS]
    kinds = [d.kind for d in DETECTORS]
    mac_key = None if key is None else _mac_key(key)
    blake2b = hashlib.blake2b
    for whole, m in zip(matches, marked, strict=True):
        kept, _, body = m.partition(_OPEN)
        values, _, tail = body[:-1].partition(_TAIL)
        # Exactly one branch's value is non-empty: the separators before it give its index.
        value = values.lstrip(_SEP)
        i = len(values) - len(value)
        value = value.rstrip(_SEP)
        accepted = validators[i](value, tail)
        if not accepted:
            out[whole] = (None, "", whole)
            continue
        kind = kinds[i]
        if mac_key is None:
            token = ""
        else:  # pseudonym(), inlined: this loop runs once per distinct entity of the partition
            digest = blake2b(f"{kind}\x00{_normal(kind, accepted)}".encode(), key=mac_key,
                             digest_size=TOKEN_HEX // 2).hexdigest()
            token = f"<{kind}:{digest}>"
        out[whole] = (kind, accepted, kept + token + value[len(accepted):] + tail)
    return out


# ------------------------------------------------------------------------------- vectorised API


@dataclass
class MaskResult:
    """Masked texts, one row per entity masked (``index`` into the input, ``kind``), and totals."""

    texts: pl.Series
    entities: pl.DataFrame
    counts: Counter


def _padded(texts: pl.Series) -> pl.Series:
    # No branch matches the control characters the markers use, so input text cannot forge one.
    return pl.select(pl.concat_str([pl.lit(" "), pl.lit(texts.cast(pl.String))])).to_series()


def _found(padded: pl.Series) -> pl.DataFrame:
    """Every candidate match of the combined expression in the (padded) texts: (index, match).

    One pass of the combined automaton over every text; it doubles as the pre-filter: texts without
    a candidate (most of them) never meet validation or replacement.
    """
    return (padded.str.extract_all(PATTERN).alias("match").to_frame().with_row_index("index")
            .filter(pl.col("match").list.len() > 0).explode("match"))


def _neutral(texts: pl.Series) -> pl.Series:
    # Written placeholders are set aside as "<>": their digits are not entities, their edges still
    # separate words the way the placeholder does.
    return texts.str.replace_all(_PLACEHOLDER_RS, "<>")


_PASSES = 3


# Texts per chunk when a column is masked in parallel: each chunk runs in its own thread (polars'
# string kernels release the GIL), so both cores work; small columns stay in one piece.
_CHUNK_TEXTS = 100_000


def mask_series(texts: pl.Series, key: bytes) -> MaskResult:
    """Mask a whole column of texts at once (nulls stay null), in parallel chunks when it is large."""
    workers = min(os.cpu_count() or 1, 8)
    n = len(texts)
    if workers < 2 or n < 2 * _CHUNK_TEXTS:
        return _mask_chunk(texts, key)
    size = max(_CHUNK_TEXTS, -(-n // workers))
    starts = list(range(0, n, size))
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda start: _mask_chunk(texts.slice(start, size), key), starts))
    entities = pl.concat([p.entities.with_columns(pl.col("index") + start) for p, start in zip(parts, starts,
                                                                                                strict=True)])
    counts: Counter = Counter()
    for p in parts:
        counts.update(p.counts)
    return MaskResult(pl.concat([p.texts for p in parts]).alias(texts.name), entities, counts)


def _mask_chunk(texts: pl.Series, key: bytes) -> MaskResult:
    """Mask a column of texts (nulls stay null).

    A match consumes the character before its value; when that character belonged to the previous
    entity (``user:pw@10.0.0.5``), the next pass, over the texts that changed only, finds the rest.
    """
    name = texts.name
    masked = _padded(texts)
    rows = pl.Series("index", range(len(masked)), dtype=pl.UInt32)
    entities = [pl.DataFrame(schema={"index": pl.UInt32, "kind": pl.String})]
    seen: set[str] = set()
    for i in range(_PASSES):
        subset = masked.gather(rows)
        found = _found(_neutral(subset))
        # A candidate rejected in an earlier pass is rejected again: only new ones are decided.
        fresh = [m for m in found["match"].unique().to_list() if m not in seen]
        if not fresh:
            break
        seen.update(fresh)
        decided = _decide(fresh, key)
        kinds = pl.DataFrame({"match": list(decided), "kind": [d[0] for d in decided.values()]},
                             schema={"match": pl.String, "kind": pl.String})
        hits = found.join(kinds, on="match", how="left").filter(pl.col("kind").is_not_null())
        if hits.is_empty():
            break
        hit_rows = hits["index"].unique().sort()
        # Longest first: replace_many takes the first pattern that matches at a position.
        order = sorted(decided, key=len, reverse=True)
        replaced = subset.gather(hit_rows).str.replace_many(order, [decided[m][2] for m in order])
        entities.append(hits.select(rows.gather(hits["index"]).alias("index"), "kind"))
        rows = rows.gather(hit_rows)
        masked = masked.scatter(rows, replaced)
    entities_df = pl.concat(entities)
    counts = Counter(dict(entities_df.group_by("kind").len().iter_rows()))
    return MaskResult(masked.str.slice(1).alias(name), entities_df, counts)


def scan_series(texts: pl.Series) -> pl.DataFrame:
    """Entities still present in ``texts`` (placeholders already written are ignored), one row each:
    ``index`` (position in ``texts``), ``kind`` and ``value``. The masking check uses it."""
    found = _found(_neutral(_padded(texts)))
    schema = {"index": pl.UInt32, "kind": pl.String, "value": pl.String}
    if found.is_empty():
        return pl.DataFrame(schema=schema)
    decided = _decide(found["match"].unique().to_list(), None)
    kinds = pl.DataFrame({"match": list(decided), "kind": [d[0] for d in decided.values()],
                          "value": [d[1] for d in decided.values()]},
                         schema={"match": pl.String, "kind": pl.String, "value": pl.String})
    return found.join(kinds, on="match", how="left").filter(pl.col("kind").is_not_null()).select(list(schema))


# Columns of raw_traces that carry trace text (tool_calls' arguments and results, retrieved_context
# documents included); user_id and session_id are pseudonymised whole.
TEXT_COLUMNS = ("request", "response", "error_message", "error_type", "root_span_name")
LIST_COLUMNS = ("retrieved_context",)
# Lists of structs and the text fields of each element that are masked.
STRUCT_LIST_FIELDS = {"tool_calls": ("arguments", "result"), "feedback": ("label",)}
ID_COLUMNS = {"user_id": "USER", "session_id": "SESSION"}

# A name detector (see pii_names): the (start, end) spans of person names in one text.
NameDetector = Callable[[str], list[tuple[int, int]]]


@dataclass
class _Flat:
    """Every text of a raw_traces-shaped frame as one column, and how to put it back.

    ``texts`` concatenates the pieces in order: each scalar text column, then each list column's
    values, then each tool-call field's values; ``rows`` gives each text's row, ``columns`` its piece.
    List columns are cut and rebuilt through their Arrow offsets, so nothing is grouped or joined.
    """

    texts: pl.Series
    rows: np.ndarray
    columns: list[tuple[str, int]]  # (column or "<column>.<field>", number of texts)
    lists: dict[str, tuple[pa.Array, np.ndarray, pa.Array | None]]  # column -> (values, offsets, null mask)


def _list_parts(s: pl.Series) -> tuple[pa.Array, np.ndarray, pa.Array | None]:
    arr = s.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = pa.concat_arrays(arr.chunks) if arr.num_chunks != 1 else arr.chunk(0)
    offsets = arr.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    values = arr.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    mask = arr.is_null() if arr.null_count else None
    return values, offsets - offsets[0], mask


def _flatten(df: pl.DataFrame) -> _Flat:
    n = df.height
    every_row = np.arange(n, dtype=np.int64)
    texts, rows, columns, lists = [], [], [], {}
    for col in TEXT_COLUMNS:
        if col in df.columns:
            texts.append(df[col].cast(pl.String))
            rows.append(every_row)
            columns.append((col, n))
    for col in (*LIST_COLUMNS, *STRUCT_LIST_FIELDS):
        if col not in df.columns:
            continue
        values, offsets, mask = _list_parts(df[col])
        lists[col] = (values, offsets, mask)
        per_row = np.repeat(every_row, np.diff(offsets))
        fields = [(col, values)] if col not in STRUCT_LIST_FIELDS else [
            (f"{col}.{f}", values.field(f)) for f in STRUCT_LIST_FIELDS[col]]
        for name, arr in fields:
            texts.append(pl.Series(name, arr).cast(pl.String))
            rows.append(per_row)
            columns.append((name, len(arr)))
    if not texts:
        return _Flat(pl.Series("text", [], dtype=pl.String), np.zeros(0, np.int64), [], {})
    return _Flat(pl.concat([t.alias("text") for t in texts]), np.concatenate(rows), columns, lists)


def _mask_names(texts: pl.Series, key: bytes, names: NameDetector) -> tuple[pl.Series, pl.DataFrame]:
    """Person names through the optional detector: one Python call per text, so it is opt-in."""
    out, hits = [], []
    for i, text in enumerate(texts.to_list()):
        if not text:
            out.append(text)
            continue
        parts, last = [], 0
        for start, end in sorted(names(text)):
            if start < last or _PLACEHOLDER.search(text[start:end]):
                continue
            parts += [text[last:start], pseudonym("PERSON", " ".join(text[start:end].casefold().split()), key)]
            last = end
            hits.append(i)
        out.append("".join(parts) + text[last:])
    entities = pl.DataFrame({"index": hits, "kind": ["PERSON"] * len(hits)},
                            schema={"index": pl.UInt32, "kind": pl.String})
    return pl.Series(texts.name, out, dtype=pl.String), entities


_PII_FOUND = pl.List(pl.Struct({"key": pl.String, "value": pl.Int64}))


def mask_frame(df: pl.DataFrame, key: bytes, names: NameDetector | None = None) -> tuple[pl.DataFrame, Counter]:
    """Mask every text column of a raw_traces-shaped frame and pseudonymise its ids.

    All texts of the partition (top-level columns, every tool call's arguments and result, every
    retrieved document) go through :func:`mask_series` as one column. The frame gains ``pii_found``
    (a list of {key, value} counts by entity type, for a DuckDB MAP); the Counter sums them.
    """
    flat = _flatten(df)
    result = mask_series(flat.texts, key)
    texts, entities, counts = result.texts, result.entities, result.counts
    if names is not None:
        texts, person = _mask_names(texts, key, names)
        entities = pl.concat([entities, person])
        counts = counts + Counter({"PERSON": person.height})

    out = df
    pieces, start = {}, 0
    for name, length in flat.columns:
        pieces[name] = texts.slice(start, length)
        start += length
    for col in TEXT_COLUMNS:
        if col in pieces:
            out = out.with_columns(pieces[col].alias(col))
    for col, (values, offsets, mask) in flat.lists.items():
        if col in STRUCT_LIST_FIELDS:
            fields = [pieces[f"{col}.{f.name}"].to_arrow() if f.name in STRUCT_LIST_FIELDS[col]
                      else values.field(f.name)
                      for f in values.type]
            values = pa.StructArray.from_arrays(fields, names=[f.name for f in values.type],
                                                mask=values.is_null() if values.null_count else None)
        else:
            values = pieces[col].to_arrow()
        rebuilt = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), values, mask=mask)
        out = out.with_columns(pl.Series(col, rebuilt).cast(df.schema[col]))
    for col, kind in ID_COLUMNS.items():
        if col in out.columns:
            out = out.with_columns(_pseudonymised(out[col], kind, key).alias(col))
    per_row = (entities.with_columns(pl.Series("_row", flat.rows[entities["index"].to_numpy()]))
               .group_by("_row", "kind").len()
               .sort("kind")
               .group_by("_row").agg(pl.struct(pl.col("kind").alias("key"), pl.col("len").cast(pl.Int64)
                                               .alias("value")).alias("pii_found")))
    pii = (pl.DataFrame({"_row": np.arange(df.height, dtype=np.int64)})
           .join(per_row, on="_row", how="left", maintain_order="left")["pii_found"]
           .fill_null(pl.lit([], dtype=_PII_FOUND)).cast(_PII_FOUND))
    return out.with_columns(pii.alias("pii_found")), counts


def scan_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Entities left in a masked_traces-shaped frame: ``trace_id``, ``column``, ``kind``, ``value``.

    Also reports ``user_id`` / ``session_id`` values that are not pseudonyms (kind ``USER_ID`` /
    ``SESSION_ID``).
    """
    flat = _flatten(df)
    found = scan_series(flat.texts)
    names = np.concatenate([np.full(n, name, dtype=object) for name, n in flat.columns]) if flat.columns else []
    idx = found["index"].to_numpy()
    out = found.select(
        pl.Series("trace_id", df["trace_id"].gather(flat.rows[idx]) if len(idx) else [], dtype=pl.String),
        pl.Series("column", np.asarray(names)[idx] if len(idx) else [], dtype=pl.String),
        "kind", "value")
    for col, kind in ID_COLUMNS.items():
        if col in df.columns:
            bad = df.filter(pl.col(col).is_not_null() & ~pl.col(col).cast(pl.String).str.contains(
                f"^<{kind}:[0-9a-f]{{{TOKEN_HEX}}}>$"))
            out = pl.concat([out, bad.select(pl.col("trace_id").cast(pl.String), pl.lit(col).alias("column"),
                                             pl.lit(f"{kind}_ID").alias("kind"),
                                             pl.col(col).cast(pl.String).alias("value"))])
    return out


def redacted(value: str) -> str:
    """The shape of a value without its content (``Xxxx.Xxx@xxxx.xxx``, ``+00 00 0000 0000``): what a
    check may show about text that should not be there."""
    shape = re.sub(r"[A-Z]", "X", re.sub(r"[a-z]", "x", re.sub(r"[0-9]", "0", value)))
    return shape if len(shape) <= 40 else shape[:37] + "..."


def _pseudonymised(ids: pl.Series, kind: str, key: bytes) -> pl.Series:
    distinct = ids.cast(pl.String).drop_nulls().unique().to_list()
    mac_key, blake2b, n = _mac_key(key), hashlib.blake2b, TOKEN_HEX // 2
    prefix = f"{kind}\x00".encode()
    # pseudonym(), inlined: one call per distinct id of the partition
    tokens = [f"<{kind}:{blake2b(prefix + v.encode(), key=mac_key, digest_size=n).hexdigest()}>" for v in distinct]
    return ids.cast(pl.String).replace_strict(distinct, tokens, default=None, return_dtype=pl.String)


# -------------------------------------------------------------------- one string at a time (re)


def _re_matches(text: str) -> Iterable[tuple[int, str, str]]:
    """(start of the value in ``text``, kind, accepted value) of every entity, found with ``re``."""
    for m in _PY.finditer(" " + text):
        i = next(j for j in range(len(DETECTORS)) if m.group(f"v{j}") is not None)
        tail = m.group(f"t{i}") if DETECTORS[i].tail else ""
        accepted = DETECTORS[i].validate(m.group(f"v{i}"), tail or "")
        if accepted:
            yield m.start(f"v{i}") - 1, DETECTORS[i].kind, accepted


def find_entities(text: str | None) -> list[tuple[str, str]]:
    """(type, value) of every entity still in the text (placeholders ignored)."""
    if not text:
        return []
    return [(kind, value) for _, kind, value in _re_matches(_PLACEHOLDER.sub("<>", text))]


def _neutral_re(text: str) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with placeholders set aside as "<>" (as :func:`_neutral` does), and for each "<>" its
    position in the neutral text and the length it stands for."""
    out, spans, last, shift = [], [], 0, 0
    for m in _PLACEHOLDER.finditer(text):
        out.append(text[last:m.start()])
        spans.append((m.start() - shift, m.end() - m.start()))
        shift += m.end() - m.start() - 2
        out.append("<>")
        last = m.end()
    out.append(text[last:])
    return "".join(out), spans


def mask_text_re(text: str | None, key: bytes, counts: Counter | None = None) -> str | None:
    """:func:`mask_text` with Python's ``re``, one string at a time: the benchmark's reference."""
    if not text:
        return text
    for _ in range(_PASSES):
        neutral, spans = _neutral_re(text)
        out, last = [], 0
        for start, kind, value in _re_matches(neutral):
            # back to positions in ``text``: add what the placeholders before ``start`` stand for
            shift = sum(n - 2 for p, n in spans if p < start)
            begin = start + shift
            out += [text[last:begin], pseudonym(kind, _normal(kind, value), key)]
            last = begin + len(value)
            if counts is not None:
                counts[kind] += 1
        if not out:
            break
        text = "".join(out) + text[last:]
    return text


def mask_text(text: str | None, key: bytes, counts: Counter | None = None) -> str | None:
    """Replace every detected entity; ``counts`` (by entity type) is updated in place."""
    if not text:
        return text
    result = mask_series(pl.Series([text]), key)
    if counts is not None:
        counts.update(result.counts)
    return result.texts[0]


def mask_traces(rows: list[dict], key: bytes) -> tuple[list[dict], Counter]:
    """Mask every text a later step can show or send, and pseudonymise session and user ids.

    Each row gains ``pii_found`` (counts by entity type); the returned Counter sums them.
    """
    if not rows:
        return [], Counter()
    df = pl.DataFrame(rows, infer_schema_length=None)
    masked, total = mask_frame(df, key)
    out = []
    for original, r in zip(rows, masked.to_dicts(), strict=True):
        r["pii_found"] = {e["key"]: e["value"] for e in r["pii_found"]}
        if "tool_calls" in original and original["tool_calls"] is None:
            r["tool_calls"] = None
        out.append({**original, **r})
    return out, total


# ------------------------------------------------------------------------------------ row policy


def json_paths(attributes: Sequence[str]) -> list[str]:
    """DuckDB JSON paths for attribute names with dots (``eval.opt_out`` -> ``$."eval.opt_out"``)."""
    # A path that cannot exist keeps the list typed when nothing is configured.
    return ['$."' + a.replace('"', '\\"') + '"' for a in attributes] or ['$."\x00"']


def apply_row_policy(df: pl.DataFrame, drop_services: Sequence[str] = (),
                     drop_tenants: Sequence[str] = ()) -> tuple[pl.DataFrame, Counter]:
    """Drop the traces the privacy policy excludes, before any text is read.

    ``df`` carries ``opted_out`` and ``tenant`` (from masked_traces_source.sql); the first matching
    reason counts: ``opt_out``, then ``service``, then ``tenant``. Returns the kept rows without
    those two columns and the dropped counts by reason.
    """
    reason = (pl.when(pl.col("opted_out").fill_null(False)).then(pl.lit("opt_out"))
              .when(pl.col("service_name").is_in(list(drop_services))).then(pl.lit("service"))
              .when(pl.col("tenant").is_in(list(drop_tenants))).then(pl.lit("tenant"))
              .otherwise(None))
    tagged = df.with_columns(reason.alias("_reason"))
    dropped = Counter(dict(tagged.filter(pl.col("_reason").is_not_null()).group_by("_reason").len().iter_rows()))
    kept = tagged.filter(pl.col("_reason").is_null()).drop("_reason", "opted_out", "tenant")
    return kept, dropped


def text_bytes(df: pl.DataFrame) -> int:
    """Bytes of trace text in a raw_traces-shaped frame: what :func:`mask_frame` reads."""
    return int(_flatten(df).texts.str.len_bytes().sum() or 0)


def texts_of(df: pl.DataFrame) -> pl.Series:
    """Every text of a raw_traces-shaped frame as one column, in the order :func:`mask_frame` masks them."""
    return _flatten(df).texts
