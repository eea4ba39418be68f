"""The detectors, as data: for each entity type a pattern, its boundaries and a validator, and the normal form
its value is hashed in.

Every detector is one branch of its stage's combined expression (``engine.PATTERNS``, see ``STAGES``), so a
pattern may use only syntax that Rust's ``regex`` and Python's ``re`` read alike, only ASCII classes (see
``_W``), and must never match the control characters 0x01, 0x02, 0x1e and 0x1f (the engine's markers).
Within a stage, detectors run in the order listed: where two could match at the same place, the first one
listed wins; the first stage runs before the second.
"""

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from eval_pipeline.lib.masking import numbers


@dataclass(frozen=True)
class Detector:
    """One branch of the combined expression.

    ``pattern`` matches the value; ``before`` lists characters that must not precede it (a left
    boundary, since Rust's regex has no look-behind); ``keep`` matches a prefix that stays in clear
    (``password=``); ``tail`` matches what directly follows the value, handed to ``validate`` with it
    (a non-empty tail usually means the value is part of a longer identifier).
    ``validate(value, tail)`` returns the part of ``value`` to mask (a prefix of it), or None; a detector whose
    matches can be of several types (a run of digits) returns ``(type, prefix)``. ``validate_many``, when
    given, is the same decision on columns (an expression of the value and tail expressions, null where
    rejected), so the engine decides a partition's many candidates of that type in Rust.
    """

    kind: str
    pattern: str
    validate: Callable[[str, str], str | tuple[str, str] | None]
    before: str = ""
    keep: str = ""
    tail: str = ""
    validate_many: Callable[[pl.Expr, pl.Expr], pl.Expr] | None = None


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


def _emails(value: pl.Expr, tail: pl.Expr) -> pl.Expr:
    """:func:`_email` on columns."""
    tld = value.str.extract(r"([^.]*)$", 1).str.to_lowercase()
    return pl.when((tail == "") & ~tld.is_in(sorted(_FILE_EXTENSIONS))).then(value)


_FILE_EXTENSIONS = frozenset(
    "png jpg jpeg gif svg webp bmp ico tif tiff pdf js mjs cjs ts tsx jsx py pyc rb go rs java kt c h cc cpp hpp "
    "json yaml yml toml ini cfg conf lock md txt csv tsv log html htm css scss xml zip gz tar whl so dll exe".split())


def _number(value: str, tail: str) -> tuple[str, str] | None:
    return numbers.find(value, tail)


_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "BI": 27, "DJ": 27, "FK": 18, "HN": 28, "IR": 26, "LY": 25, "MN": 20, "NI": 28, "OM": 23, "RU": 33, "SD": 18,
    "SO": 23, "YE": 30,
}


def _iban(value: str, tail: str) -> str | None:
    want = _IBAN_LENGTHS.get(value[:2].upper())
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
    compact = cut.replace(" ", "").upper()
    rotated = compact[4:] + compact[:4]
    return cut if int("".join(str(int(c, 36)) for c in rotated)) % 97 == 1 else None


def _ssn(value: str, tail: str) -> str | None:
    d = _digits(value)
    area, group, serial = d[:3], d[3:5], d[5:]
    ok = len(d) == 9 and area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"
    return value if ok and not tail else None


def _ssn_named_after(value: str, tail: str) -> str | None:
    return _ssn(value, "")


def _ipv4(value: str, tail: str) -> str | None:
    return value if not tail and numbers.classify(value) == "IP" else None


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


# Top-level domains a bare host name (no scheme, no www., no path) must end with to count as a URL: the
# generic ones people type and every two-letter country code except those that are file extensions or
# common last words of dotted attribute names (``user.id``, ``app.py``, ``README.md``).
_BARE_TLDS = frozenset(
    "com net org info biz io co me app dev ai tv eu asia shop online site store tech blog cloud".split()
) | frozenset(
    "ac ad ae af ag al am ao ar at au az ba bb bd be bf bg bh bi bj bo br bs bt bw by bz ca cd cf cg ch ci cl cm cn "
    "cr cu cv cy cz de dj dk dm do dz ec ee eg er es et fi fj fm fo fr ga gd ge gh gi gl gm gn gr gt gy hk hn hr ht "
    "hu ie il im iq ir is it je jm jo jp ke kg kh kr kw ky kz la lb lc li lk lr lt lu lv ly ma mc mg mk ml mm mn mo "
    "mt mu mv mw mx my mz na ne ng ni nl no np nz om pa pe pg ph pk pl pt qa ro ru rw sa sc se sg si sk sl sn sr sv "
    "sy sz td tg th tj tn tr tt tw tz ua ug uk us uy uz ve vn ye za zm zw".split())
_URL_END = ".,;:!?)]}'\""


def _url(value: str, tail: str) -> str | None:
    url = value.rstrip(_URL_END)
    if "://" in url:
        return url if url.split("://", 1)[1] else None
    if url[:4].lower() == "www.":
        return url
    host = url.split("/", 1)[0]
    if "/" not in url and host.rsplit(".", 1)[-1].lower() not in _BARE_TLDS:
        return None
    return url if host.rsplit(".", 1)[-1].lower() not in _FILE_EXTENSIONS else None


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

# The detectors run in two stages, each one combined expression: one automaton holding every branch outgrows
# the lazy DFA's cache and falls to its slow path (2 MB/s); two halves run at 75 and 55 MB/s. The first stage
# runs first, so its types win over the second's where they overlap.
_FIRST: tuple[Detector, ...] = (
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
             before=rf"{_W}.%+-", tail=rf"(?:[{_W}@-]|:[{_W}/])*", validate_many=_emails),
    # URLs in user and assistant text (privacy.urls: all); the branches above keep credentials typed apart.
    Detector("URL", r"(?i:https?|ftp)://[^ \t\r\n<>\"'`\x01-\x1f]+"
                    r"|(?i:www)\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/[^ \t\r\n<>\"'`\x01-\x1f]*)?"
                    r"|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,12}(?:/[^ \t\r\n<>\"'`\x01-\x1f]*)?", _url,
             before=rf"{_W}.@/:%+-", tail=rf"(?:[{_W}@-]|:[{_W}/])*"),
    # IPv4 here as well as among the digit runs: after a URL's credentials (``user:pw@10.0.0.5/db``) too.
    # Not after "/": "Chrome/131.0.0.0" is a version (a URL holding an address is the URL detector's).
    Detector("IP", r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}", _ipv4, before=rf"{_W}./", tail=_CONT_IP),
    Detector("IBAN", r"[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]){11,30}", _iban, before=_W, tail=_WORD_TAIL),
)
_SECOND: tuple[Detector, ...] = (
    Detector("DOB", r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}[./-][0-9]{1,2}[./-](?:[0-9]{4}|[0-9]{2})"
                    rf"|[0-9]{{1,2}}\.?(?:º|st|nd|rd|th)? (?:de )?{_MONTHS}\.?,?(?: de)? [0-9]{{4}}"
                    rf"|{_MONTHS}\.? [0-9]{{1,2}}(?:st|nd|rd|th)?,? [0-9]{{4}}", _no_tail, before=_W,
             keep=r"(?i:date of birth|d\.o\.b\.|dob|birth ?date|birthday|born(?: on)?|geburtsdatum|geb\.|"
                  r"geboren(?: am)?|fecha de nacimiento|nacid[oa] el|date de naissance|née? le|"
                  r"data di nascita|nat[oa] il|data de nascimento|nascid[oa] em)[ \t:=\"'-]*", tail=_WORD_TAIL),
    Detector("SSN", r"[0-9]{3}[ -]?[0-9]{2}[ -]?[0-9]{4}", _ssn, before=_W,
             keep=r"(?i:ssn|social security(?: number| no\.?)?)[^0-9\x01-\x1f\r\n]{0,24}", tail=_CONT),
    # "123456789 is my SSN": a few words, then the keyword (handed over as the tail).
    Detector("SSN", r"[0-9]{3}[ -]?[0-9]{2}[ -]?[0-9]{4}", _ssn_named_after, before=_NUM_BEFORE,
             tail=r"(?: [A-Za-z]+){0,4} (?i:ssn|social security)"),
    Detector("IP", r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}", _ipv6, before=rf"{_W}:.",
             tail=rf"(?:[{_W}]|[.:][{_W}])*"),
    # Every run of digit groups (cards, phones of any region, IPv4, dashed SSNs): numbers.py decides which.
    Detector("NUMBER", r"(?:\+|\(\+?[0-9]{1,4}\)[ .-]?|\()?[0-9]+(?:(?:[ ./-]| ?\(0\) ?|\)[ .-]?)[0-9]+)+"
                       r"|\+?[0-9]{7,19}", _number, before=_NUM_BEFORE, tail=_CONT),
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

STAGES: tuple[tuple[Detector, ...], ...] = (_FIRST, _SECOND)
DETECTORS: tuple[Detector, ...] = _FIRST + _SECOND

# The types a detector can report (the digit-run detector reports those of numbers.KINDS).
KINDS: tuple[str, ...] = tuple(dict.fromkeys(
    k for d in DETECTORS for k in (numbers.KINDS if d.kind == "NUMBER" else (d.kind,))))
# The entity types found by patterns alone (the recall target of design.md section 7).
PATTERN_KINDS = ("EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "URL", "URL_SECRET", "SECRET")
# privacy.urls: which URL detectors run (all URLs; only credentials and tokens in URLs; none).
URL_MODES = {"all": ("URL", "URL_SECRET"), "credentials_only": ("URL_SECRET",), "none": ()}


def stages_for(urls: str = "all") -> tuple[tuple[Detector, ...], ...]:
    """The detectors that run under ``privacy.urls``, stage by stage."""
    if urls not in URL_MODES:
        msg = f"privacy.urls is {urls!r}; use one of {sorted(URL_MODES)}."
        raise ValueError(msg)
    dropped = {"URL", "URL_SECRET"} - set(URL_MODES[urls])
    return tuple(tuple(d for d in stage if d.kind not in dropped) for stage in STAGES)


# ---------------------------------------------------------------------------------- normal forms


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def _words(value: str) -> str:
    return " ".join(value.casefold().split())


# The form a value is hashed in, by entity type: the same entity written differently gives the same token
# (``+1 415 555 0132`` and ``+1-415-555-0132``). A type not listed is hashed as found.
NORMAL_FORMS: dict[str, Callable[[str], str]] = {
    "EMAIL": str.lower,
    "PHONE": lambda v: _NOT_PHONE.sub("", v),
    "CARD": _digits,
    "SSN": _digits,
    "IBAN": lambda v: v.replace(" ", "").upper(),
    "URL": lambda v: v.lower().rstrip("/"),
    "IP": _ip,
    "ADDRESS": _words,
    "PERSON": _words,  # from the name tier (names.py)
    "LOCATION": _words,
    "ORGANIZATION": _words,
}


def normal_form(kind: str, value: str) -> str:
    """The form of ``value`` that is hashed into its token (see :data:`NORMAL_FORMS`)."""
    normal = NORMAL_FORMS.get(kind)
    return value if normal is None else normal(value)
