"""What a run of digits is: a payment card, a phone number of any region, an IPv4 address, a US SSN, or
nothing (a date, a version, an epoch, an amount, an order number).

One broad pattern in detectors.py finds every run of digit groups; :func:`classify` decides each distinct run
once. Phones are checked against Google's libphonenumber metadata (the ``phonenumbers`` package): a number
written with its country code (``+`` or ``00``) must be a possible number of that country; a national number
must match the number plan of some region, after that region's trunk prefix, and carry a phone's shape
(a trunk ``0``, an area code in brackets, or at least three groups), so a bare order number is not a phone.
Cards are 12-19 digits passing Luhn, compact or in groups of one separator, of any issuer.
"""

import functools
import re

import phonenumbers
from phonenumbers import PhoneMetadata

# The types a digit run can be.
KINDS = ("CARD", "PHONE", "IP", "SSN")
_GROUPS = re.compile(r"[0-9]+")
# Dates written with digits only: 2025-05-11, 11.05.2025, 05/11/25 (three groups, one separator).
_DATE = re.compile(r"(?:[0-9]{4}([./-])[0-9]{1,2}\1[0-9]{1,2}|[0-9]{1,2}([./-])[0-9]{1,2}\2(?:[0-9]{4}|[0-9]{2}))")
# Unix epochs in seconds, ms, us and ns (2001-2033): the digit counts of compact runs starting with 1.
_EPOCH_LENGTHS = (10, 13, 16, 19)


def luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = ord(c) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(value: str, digits: str, seps: set[str]) -> bool:
    if not 12 <= len(digits) <= 19 or len(set(digits)) == 1 or not luhn(digits):
        return False
    if not seps:
        # A compact run starting with 1 of an epoch's length is a timestamp (UATP cards have 15 digits).
        return not (digits[0] == "1" and len(digits) in _EPOCH_LENGTHS)
    groups = _GROUPS.findall(value)
    return len(seps) == 1 and seps <= {" ", "-"} and all(3 <= len(g) <= 6 for g in groups)


# Every trunk prefix some region uses (mostly "0"; a few longer or different ones).
_TRUNKS: tuple[str, ...] = ()


def _desc(meta: PhoneMetadata | None) -> tuple[str, str, frozenset[int]] | None:
    desc = meta.general_desc if meta else None
    if desc is None or not desc.national_number_pattern:
        return None
    return meta.national_prefix or "", desc.national_number_pattern, frozenset(desc.possible_length or ())


@functools.cache
def _national_plans() -> dict[tuple[str, int], str]:
    """(trunk prefix, digits after it) -> the national number patterns of every region with that trunk prefix
    and length, as one expression: one match decides a candidate against every region at once."""
    patterns: dict[tuple[str, int], list[str]] = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        plan = _desc(PhoneMetadata.metadata_for_region(region))
        if plan is None:
            continue
        trunk, pattern, lengths = plan
        for n in lengths:
            patterns.setdefault((trunk, n), []).append(pattern)
    return {k: "|".join(f"(?:{p})" for p in dict.fromkeys(v)) for k, v in patterns.items()}


@functools.cache
def _national_plan(trunk: str, n: int) -> re.Pattern[str] | None:
    """The expression of :func:`_national_plans` for one key, compiled when first needed (compiling all of
    them costs a tenth of a second, and most partitions meet a few lengths)."""
    pattern = _national_plans().get((trunk, n))
    return None if pattern is None else re.compile(pattern)


@functools.cache
def _country_lengths() -> dict[str, frozenset[int]]:
    """Country calling code -> the possible lengths of its national numbers (libphonenumber's metadata)."""
    out: dict[str, frozenset[int]] = {}
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        lengths: set[int] = set()
        for region in regions:
            meta = (PhoneMetadata.metadata_for_nongeo_region(code) if region == "001"
                    else PhoneMetadata.metadata_for_region(region))
            plan = _desc(meta)
            if plan is not None:
                lengths |= plan[2]
        if lengths:
            out[str(code)] = frozenset(lengths)
    return out


def _national_phone(digits: str) -> bool:
    """The digits are a number of some region's plan, written nationally (after its trunk prefix if any)."""
    global _TRUNKS
    plans = _national_plans()
    if not _TRUNKS:
        _TRUNKS = tuple(sorted({t for t, _ in plans if t}, key=len, reverse=True))
    if digits.startswith("0"):
        # A leading 0 is a trunk prefix: only regions that use one ("0", "06", ...) can read the number.
        keys = [(t, len(digits) - len(t)) for t in _TRUNKS if t and digits.startswith(t)]
    else:
        keys = [("", len(digits))] + [(t, len(digits) - len(t)) for t in _TRUNKS if t and digits.startswith(t)]
    for trunk, n in keys:
        pattern = _national_plan(trunk, n)
        if pattern is not None and pattern.fullmatch(digits[len(trunk):]):
            return True
    return False


def _international_phone(digits: str) -> bool:
    """A possible number of its country: a calling code, then a national number of one of its lengths (what
    ``phonenumbers.is_possible_number`` checks, without parsing)."""
    countries = _country_lengths()
    for k in (1, 2, 3):
        lengths = countries.get(digits[:k])
        if lengths is not None:
            return len(digits) - k in lengths
    return False


def _version_like(groups: list[str], seps: set[str]) -> bool:
    # 10.0.17231.3710, 3.12.1: dotted groups whose first has one or two digits and no leading zero.
    return seps == {"."} and len(groups) >= 3 and len(groups[0]) <= 2 and not groups[0].startswith("0")


def _phone(value: str, digits: str, seps: set[str], groups: list[str]) -> bool:
    if len(digits) > 17:
        return False
    if value[0] == "+" or value.startswith(("(+", "00")):
        # The digits dialled after + or 00 ("+46 (0)8 ...": the trunk 0 in brackets is not dialled).
        international = digits[2:] if value[0] == "0" else digits
        if "(0)" in value:
            international = _international_digits(value)
        return 8 <= len(international) <= 15 and _international_phone(international)
    if len(digits) > 13 or _DATE.fullmatch(value) or _version_like(groups, seps):
        return False
    if not seps:
        # Compact: a trunk 0 and nine digits or more (an eight-digit case number is not a phone).
        return digits.startswith("0") and len(digits) >= 9 and _national_phone(digits)
    # A phone's shape: a trunk 0, an area code in brackets, or three groups of two digits or more.
    # (A leading one-digit group is a trunk prefix, as in 1-800-555-0199.)
    rest = groups[1:] if len(groups[0]) == 1 else groups
    shaped = digits.startswith("0") or value.startswith("(") or (len(rest) >= 3 and min(map(len, rest)) >= 2)
    return shaped and _national_phone(digits)


def _international_digits(value: str) -> str:
    """The digits dialled after ``+`` or ``00``; "+46 (0)8 ...": the trunk 0 in brackets is not dialled."""
    body = value.lstrip("(").lstrip("+")
    body = body[2:] if body.startswith("00") else body
    return "".join(_GROUPS.findall(body.replace("(0)", "")))


def _ipv4(value: str, groups: list[str], seps: set[str]) -> bool:
    return seps == {"."} and len(groups) == 4 and all(int(g) <= 255 and (len(g) == 1 or g[0] != "0") for g in groups)


_SSN_SHAPE = re.compile(r"[0-9]{3}-[0-9]{2}-[0-9]{4}")
_NOT_SEPARATORS = frozenset("0123456789()+")


def _ssn(value: str, digits: str) -> bool:
    if len(value) != 11 or not _SSN_SHAPE.fullmatch(value):
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


@functools.lru_cache(maxsize=1 << 16)
def classify(value: str) -> str | None:
    """The entity type of a digit run (``IP``, ``SSN``, ``CARD``, ``PHONE``), or None; cached, so a value seen
    again in the same process costs a dictionary look-up."""
    if len(value) < 7:  # "1.1.1.1", the shortest entity, has seven characters
        return None
    groups = _GROUPS.findall(value)
    seps = set(value) - _NOT_SEPARATORS
    if _ipv4(value, groups, seps):
        return "IP"
    digits = "".join(groups)
    if len(digits) < 7:
        return None
    if _ssn(value, digits):
        return "SSN"
    if "(" not in value and "+" not in value and _card(value, digits, seps):
        return "CARD"
    if _phone(value, digits, seps, groups):
        return "PHONE"
    return None


# Shorter runs are not worth cutting: a card plus an expiry year, or a phone plus a count, is longer.
_RETRY_LENGTH = 16
_GROUP_BREAK = re.compile(r"(?<=[0-9])(?=[ -][0-9])")
_PORT = re.compile(r":[0-9]{1,5}")
_EXTENSION = re.compile(r"(?i:[ .,]*(?:ext|x)\.*[0-9]*)")


def find(value: str, tail: str = "") -> tuple[str, str] | None:
    """(type, prefix of ``value`` that is the entity) for a digit run, trying it whole, then without its last
    space- or dash-separated groups (a card followed by its expiry year, a phone followed by a count).

    ``tail`` is what directly follows the run: a digit run glued to more of an identifier is nothing, except
    an address's port (``10.0.0.5:8080``) and a phone's extension (``604.731.9300.ext..402``).
    """
    kind = classify(value)
    if tail:
        if (kind == "IP" and _PORT.fullmatch(tail)) or (kind == "PHONE" and _EXTENSION.fullmatch(tail)):
            return kind, value
        return None
    if kind is not None or len(value) < _RETRY_LENGTH:
        return (kind, value) if kind is not None else None
    parts = _GROUP_BREAK.split(value)
    for n in range(len(parts) - 1, 0, -1):
        candidate = "".join(parts[:n])
        kind = classify(candidate)
        if kind is not None:
            return kind, candidate
    return None
