"""Values planted in the independent PII evaluation set (see ``pii_eval_set``).

Entities come from Faker's locale data and are written the way people and systems write them: a phone number
as a locale's own Faker format, in national or international notation, E.164, with dots or dashes, with the
trunk prefix in brackets; cards of every brand Faker knows, grouped or not; IBANs of many countries in print or
electronic form, upper or lower case; names with or without titles. Nothing here is derived from the project's
detectors. Each entity value carries its *needles*: the strings that must be gone from a masked text for the
entity to count as masked (the personal part: a phone's national significant number, an address's street line,
a name's name parts).

Negatives are the identifiers, numbers and names that fill LLM-agent traces and are not personal data.

Phone numbers are kept only when ``phonenumbers`` says they are valid for their region: real people's numbers
are, and many of Faker's invented ones are not (an invalid one is indistinguishable from an order number).
"""

import datetime as dt
import ipaddress
import random
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers as pn
from faker import Faker

# locale -> (language of its sentence templates, phone region)
LOCALES: dict[str, tuple[str, str]] = {
    "en_US": ("en", "US"), "en_GB": ("en", "GB"), "en_AU": ("en", "AU"), "en_IN": ("en", "IN"),
    "en_IE": ("en", "IE"), "en_CA": ("en", "CA"), "en_NZ": ("en", "NZ"), "de_DE": ("de", "DE"),
    "de_AT": ("de", "AT"), "de_CH": ("de", "CH"), "fr_FR": ("fr", "FR"), "fr_CA": ("fr", "CA"),
    "fr_CH": ("fr", "CH"), "es_ES": ("es", "ES"), "es_MX": ("es", "MX"), "it_IT": ("it", "IT"),
    "nl_NL": ("nl", "NL"), "nl_BE": ("nl", "BE"), "pt_BR": ("pt", "BR"), "pt_PT": ("pt", "PT"),
    "sv_SE": ("sv", "SE"), "pl_PL": ("pl", "PL"), "ja_JP": ("ja", "JP"), "da_DK": ("en", "DK"),
    "no_NO": ("en", "NO"), "fi_FI": ("en", "FI"), "cs_CZ": ("en", "CZ"),
}
# Faker locales whose bank provider writes their own country's IBAN (the others fall back to GB), all of
# them countries that use IBANs.
IBAN_LOCALES = ("az_AZ", "cs_CZ", "da_DK", "de_AT", "de_CH", "de_DE", "el_GR", "en_GB", "en_IE", "es_ES",
                "fa_IR", "fi_FI", "fr_FR", "it_IT", "mk_MK", "nl_BE", "nl_NL", "no_NO", "pl_PL", "pt_BR",
                "pt_PT", "ro_RO", "sk_SK", "tr_TR")
# More IBAN countries, by the published BBAN structure (# digit, ? capital letter); Faker has no bank data for
# them, or writes letters where the country's accounts are digits (RU, UA).
IBAN_STRUCTURES = {
    "SE": "#" * 20, "LU": "#" * 16, "BG": "????" + "#" * 14, "HR": "#" * 17, "HU": "#" * 24, "SI": "#" * 15,
    "LT": "#" * 16, "LV": "????" + "#" * 13, "EE": "#" * 16, "SA": "#" * 20, "AE": "#" * 19, "RU": "#" * 29,
    "UA": "#" * 25, "IS": "#" * 22, "MT": "????" + "#" * 23,
}
# (Faker locale, card type): every brand Faker knows; aliases of the same brand ("visa", "jcb") left out.
# "shetab" stands for the 30 Iranian banks' cards Faker knows (one drawn at random).
CARD_BRANDS = (
    *(("en_US", t) for t in ("maestro", "mastercard", "visa16", "visa13", "visa19", "amex", "discover",
                             "diners", "jcb15", "jcb16")),
    ("pt_PT", "maestro"), ("ru_RU", "mir"), ("ru_RU", "unionpay"), ("zh_CN", "unionpay"), ("uk_UA", "prostir"),
    ("fa_IR", "shetab"),
)
# (titles of men, titles of women) by language
TITLES = {
    "en": (("Mr", "Mr.", "Dr", "Dr.", "Prof."), ("Mrs", "Mrs.", "Ms", "Ms.", "Dr.", "Prof.")),
    "de": (("Herr", "Herr Dr.", "Dr."), ("Frau", "Frau Dr.", "Dr.")), "fr": (("M.", "Dr"), ("Mme", "Mme.", "Dr")),
    "es": (("Sr.", "D."), ("Sra.", "Dña.")), "it": (("Sig.", "Dott."), ("Sig.ra", "Dott.ssa")),
    "nl": (("dhr.", "Dhr."), ("mevr.", "Mevr.")), "pt": (("Sr.", "Dr."), ("Sra.", "Dra.")),
    "sv": (("Dr.",), ("Dr.",)), "pl": (("Pan", "pan"), ("Pani", "pani")),
}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Value:
    text: str
    variant: str
    needles: tuple[str, ...]


def pick(rng: random.Random, weighted: dict[str, float]) -> str:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def ascii_fold(s: str, keep: str = "") -> str:
    """``s`` in ASCII letters (accents dropped), plus the characters in ``keep``."""
    return "".join(c for c in unicodedata.normalize("NFKD", s) if c.isascii() and (c.isalpha() or c in keep))


def name_parts(*names: str) -> tuple[str, ...]:
    """Parts of a name that identify someone: capitalised, >= 3 letters (>= 2 characters in CJK script).

    A name with no such part ("A. Sá", "Li Po") needs all its parts gone.
    """
    pieces = [p for name in names for p in re.split(r"[\s-]+", name) if p]
    parts = tuple(p for p in pieces if (len(p) >= 2 if _CJK.search(p) else
                                        p[:1].isupper() and sum(c.isalpha() for c in p) >= 3))
    return parts or tuple(pieces)


# --- entities -------------------------------------------------------------------------------------------

def person(fake: Faker, rng: random.Random, locale: str) -> Value:
    if locale == "ja_JP":
        if rng.random() < 0.3:
            first, last = fake.first_romanized_name(), fake.last_romanized_name()
            return Value(f"{first} {last}", "romanized", name_parts(first, last))
        last, first = fake.last_name(), fake.first_name()
        return Value(f"{last}{rng.choice(['', ' ', '　'])}{first}", "kanji", (last, first))
    lang, female = LOCALES[locale][0], rng.random() < 0.5
    first = fake.first_name_female() if female else fake.first_name_male()
    last = fake.last_name_female() if female and hasattr(fake, "last_name_female") else fake.last_name()
    variant = pick(rng, {"first_last": 0.5, "title_first_last": 0.15, "title_last": 0.1, "last_comma_first": 0.07,
                         "initial_last": 0.05, "first_middle_last": 0.08, "upper_last": 0.05})
    title = rng.choice(TITLES[lang][female])
    if variant == "title_first_last":
        return Value(f"{title} {first} {last}", variant, name_parts(first, last))
    if variant == "title_last":
        return Value(f"{title} {last}", variant, name_parts(last))
    if variant == "last_comma_first":
        return Value(f"{last}, {first}", variant, name_parts(last, first))
    if variant == "initial_last":
        return Value(f"{first[0]}. {last}", variant, name_parts(last))
    if variant == "first_middle_last":
        middle = fake.first_name_female() if female else fake.first_name_male()
        return Value(f"{first} {middle} {last}", variant, name_parts(first, middle, last))
    if variant == "upper_last":  # forms and some cultures write the family name in capitals
        return Value(f"{first} {last.upper()}", variant, name_parts(first, last.upper()))
    return Value(f"{first} {last}", variant, name_parts(first, last))


def email(fake: Faker, rng: random.Random, locale: str) -> Value:
    variant = pick(rng, {"faker": 0.35, "company": 0.15, "capitalised": 0.2, "upper": 0.07, "plus_tag": 0.08,
                         "capital_domain": 0.1, "subdomain": 0.05})
    if variant == "faker":
        text = fake.free_email()
    elif variant == "company":
        text = fake.company_email()
    else:
        if locale == "ja_JP":
            first, last = fake.first_romanized_name(), fake.last_romanized_name()
        else:
            first, last = ascii_fold(fake.first_name()) or "Alex", ascii_fold(fake.last_name()) or "Smith"
        domain = fake.free_email_domain()
        text = {
            "capitalised": f"{first}.{last}@{domain}",
            "upper": f"{first}.{last}@{domain}".upper(),
            "plus_tag": f"{first.lower()}.{last.lower()}+{rng.choice(['orders', 'shop', 'news', 'work'])}@{domain}",
            "capital_domain": f"{first}{last[0]}@{domain.capitalize()}",
            "subdomain": f"{first[0].lower()}{last.lower()}@mail.{fake.domain_name()}",
        }[variant]
    return Value(text, variant, (text.split("@")[0] + "@",))


def _valid_number(fake: Faker, rng: random.Random, region: str, native: bool) -> tuple[str | None, pn.PhoneNumber]:
    """A valid number of ``region`` and, when Faker's locale writes numbers itself, the text it wrote."""
    if native:
        for _ in range(40):
            text = fake.phone_number()
            try:
                num = pn.parse(text, region)
            except pn.NumberParseException:
                continue
            if pn.is_valid_number(num):
                return text, num
    kind = rng.choice([pn.PhoneNumberType.MOBILE, pn.PhoneNumberType.FIXED_LINE])
    example = pn.example_number_for_type(region, kind) or pn.example_number(region)
    nsn = pn.national_significant_number(example)
    keep = max(2, len(nsn) - 6)
    for _ in range(200):
        digits = nsn[:keep] + "".join(rng.choice("0123456789") for _ in range(len(nsn) - keep))
        num = pn.parse(f"+{example.country_code}{digits}", None)
        if pn.is_valid_number(num):
            return None, num
    return None, example


def phone(fake: Faker, rng: random.Random, locale: str) -> Value:
    region = LOCALES[locale][1]
    native = type(fake.provider("faker.providers.phone_number")).__module__.endswith(locale)
    faker_text, num = _valid_number(fake, rng, region, native)
    national = pn.format_number(num, pn.PhoneNumberFormat.NATIONAL)
    intl = pn.format_number(num, pn.PhoneNumberFormat.INTERNATIONAL)
    trunk = pn.PhoneMetadata.metadata_for_region(region).national_prefix == "0" and national.startswith("0")
    weights = {"faker": 0.35 if faker_text else 0.0, "national": 0.15, "international": 0.15, "e164": 0.1,
               "trunk_in_brackets": 0.08 if trunk else 0.0, "dotted": 0.06, "dashed": 0.05, "00_prefix": 0.06}
    variant = pick(rng, weights)
    grouped = re.sub(r"[()]", "", national).split()
    text = {
        "faker": faker_text,
        "national": national,
        "international": intl,
        "e164": pn.format_number(num, pn.PhoneNumberFormat.E164),
        "trunk_in_brackets": f"+{num.country_code} (0){national[1:]}",
        "dotted": ".".join(re.split(r"[\s-]+", " ".join(grouped))),
        "dashed": "-".join(re.split(r"[\s-]+", " ".join(grouped))),
        "00_prefix": "00" + intl[1:],
    }[variant]
    return Value(text, variant, (pn.national_significant_number(num),))


def _group(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    out, i = [], 0
    for size in sizes:
        out.append(digits[i:i + size])
        i += size
    return sep.join(p for p in out if p)


_CARD_GROUPS = {15: (4, 6, 5), 14: (4, 6, 4), 13: (4, 3, 3, 3)}


def card(fakers: Callable[[str], Faker], rng: random.Random) -> Value:
    locale, brand = rng.choice(CARD_BRANDS)
    fake = fakers(locale)
    if brand == "shetab":
        banks = sorted(fake.provider("faker.providers.credit_card").credit_card_types)
        digits = fake.credit_card_number(rng.choice(banks))
    else:
        digits = fake.credit_card_number(brand)
    layout = pick(rng, {"compact": 0.4, "spaces": 0.4, "dashes": 0.2})
    sizes = _CARD_GROUPS.get(len(digits), (4, 4, 4, 4, 4))
    text = digits if layout == "compact" else _group(digits, sizes, " " if layout == "spaces" else "-")
    return Value(text, f"{brand}/{layout}", (digits,))


def _iban(country: str, structure: str, rng: random.Random) -> str:
    bban = "".join(rng.choice("0123456789" if c == "#" else "ABCDEFGHIJKLMNOPQRSTUVWXYZ") for c in structure)
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


def iban(fakers: Callable[[str], Faker], rng: random.Random, locale: str) -> Value:
    if locale in IBAN_LOCALES and rng.random() < 0.6:
        compact = fakers(locale).iban()
    else:
        source = rng.choice(IBAN_LOCALES + tuple(IBAN_STRUCTURES))
        compact = _iban(source, IBAN_STRUCTURES[source], rng) if source in IBAN_STRUCTURES else fakers(source).iban()
    layout = pick(rng, {"compact": 0.3, "grouped": 0.4, "grouped_lower": 0.15, "compact_lower": 0.15})
    text = compact if layout.startswith("compact") else _group(compact, (4,) * 9, " ")
    if layout.endswith("lower"):
        text = text.lower()
    return Value(text, f"{compact[:2]}/{layout}", (compact.upper(),))


def url(fake: Faker, rng: random.Random, locale: str) -> Value:
    user = ascii_fold(fake.user_name(), keep="0123456789._-") or "jdoe"
    variant = pick(rng, {"site": 0.15, "deep": 0.2, "query": 0.2, "no_scheme": 0.15, "profile": 0.2,
                         "fragment": 0.1})
    if variant == "site":
        text = fake.url()
    elif variant == "deep":
        text = fake.uri()
    elif variant == "query":
        params = [f"id={rng.randint(1000, 999999)}", f"ref={rng.choice(['mail', 'sms', 'app'])}",
                  f"utm_source={rng.choice(['newsletter', 'google', 'partner'])}", f"lang={locale[:2]}"]
        text = f"https://{fake.domain_name()}/{fake.uri_path()}?{'&'.join(rng.sample(params, rng.randint(1, 3)))}"
    elif variant == "no_scheme":
        text = f"{rng.choice(['www.', ''])}{fake.domain_name()}/{fake.uri_path()}"
    elif variant == "profile":
        text = rng.choice([f"https://www.linkedin.com/in/{user}-{rng.getrandbits(24):06x}",
                           f"https://github.com/{user}", f"https://calendly.com/{user}/30min",
                           f"https://{user}.github.io/", f"https://www.facebook.com/{user}",
                           f"https://x.com/{user}"])
    else:
        text = f"https://{fake.domain_name()}/{fake.uri_path()}#{rng.choice(['contact', 'section-2', 'top'])}"
    return Value(text, variant, (re.sub(r"^[a-z]+://", "", text),))


def ip(fake: Faker, rng: random.Random) -> Value:
    variant = pick(rng, {"v4_public": 0.45, "v4_private": 0.15, "v6": 0.2, "v6_compressed": 0.2})
    if variant == "v4_public":
        text = fake.ipv4_public()
    elif variant == "v4_private":
        text = fake.ipv4_private()
    elif variant == "v6":
        text = fake.ipv6()
    else:
        prefix = rng.choice([0x2001_0DB8, 0x2A02_0810, 0x2600_1700, 0x2406_DA00, 0x2A01_04F8])
        text = str(ipaddress.IPv6Address((prefix << 96) | (rng.getrandbits(16) << 64) | rng.getrandbits(20)))
    return Value(text, variant, (text,))


def ssn(fakers: Callable[[str], Faker], rng: random.Random) -> Value:
    dashed = fakers("en_US").ssn()
    layout = pick(rng, {"dashed": 0.6, "spaced": 0.2, "compact": 0.2})
    text = {"dashed": dashed, "spaced": dashed.replace("-", " "), "compact": dashed.replace("-", "")}[layout]
    return Value(text, layout, (dashed.replace("-", ""),))


def address(fake: Faker, rng: random.Random, locale: str) -> Value:
    if locale == "ja_JP":
        text = fake.address().replace("\n", " ")
        return Value(text, "full", (text,))
    street = re.sub(r"\s*\n\s*", ", ", fake.street_address())
    if rng.random() < 0.5:
        return Value(street, "street", (street,))
    city = fake.city()
    if locale in ("en_US", "en_CA", "fr_CA", "en_AU"):
        region = next(getattr(fake, a)() for a in ("state_abbr", "province_abbr") if hasattr(fake, a))
        text = f"{street}, {city}, {region} {fake.postcode()}"
    elif locale in ("en_GB", "en_IE", "en_NZ", "en_IN"):
        text = f"{street}, {city} {fake.postcode()}"
    else:
        text = f"{street}, {fake.postcode()} {city}"
    return Value(text, "full", (street,))


def location(fake: Faker, rng: random.Random, locale: str) -> Value:
    text = fake.city()
    return Value(text, "city", (text,))


def organization(fake: Faker, rng: random.Random, locale: str) -> Value:
    text = fake.company()
    return Value(text, "company", (text,))


# --- negatives ------------------------------------------------------------------------------------------

def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _moment(rng: random.Random) -> dt.datetime:
    return dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randint(0, 3 * 365 * 86400),
                                                                microseconds=rng.randint(0, 999_999))


def _timestamp(rng: random.Random) -> str:
    t = _moment(rng)
    return rng.choice([t.strftime("%Y-%m-%dT%H:%M:%SZ"), t.isoformat(), t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                       t.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{rng.randint(0, 999):03d}Z",
                       t.astimezone(dt.timezone(dt.timedelta(hours=rng.choice([-5, 1, 2, 9])))).isoformat()])


def _epoch(rng: random.Random) -> str:
    ns = int(_moment(rng).timestamp() * 1e9) + rng.randint(0, 999)
    return str(rng.choice([ns, ns // 1_000_000, ns // 1_000_000_000]))


def _date(rng: random.Random) -> str:
    d = _moment(rng).date()
    return rng.choice([d.isoformat(), d.strftime("%d %B %Y"), d.strftime("%B %d, %Y"), d.strftime("%d.%m.%Y"),
                       d.strftime("%d/%m/%Y"), d.strftime("%b %d")])


def _amount(rng: random.Random) -> str:
    v = rng.choice([rng.randint(1, 99) + rng.randint(0, 99) / 100, rng.randint(100, 9999) + 0.99,
                    float(rng.randint(1, 50) * 100)])
    us, eu = f"{v:,.2f}", f"{v:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return rng.choice([f"${us}", f"€{us}", f"{eu} €", f"£{us}", f"USD {us}", f"{eu} EUR", f"¥{int(v):,}",
                       f"{us} CHF", f"R$ {eu}"])


MODELS = ("gpt-4.1-mini", "gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022", "claude-sonnet-4-20250514",
          "gemini-1.5-pro-002", "llama-3.1-70b-instruct", "mistral-large-2407", "text-embedding-3-small",
          "o3-mini-2025-01-31", "qwen2.5-72b-instruct")
PACKAGES = ("requests==2.32.3", "numpy>=2.0,<3", "torch==2.5.1+cu121", "pydantic==2.9.2", "litellm==1.52.0",
            "@types/node@20.11.5", "openai@4.73.0", "langchain-core>=0.3.15", "fastapi==0.115.4")
ATTRIBUTES = ("gen_ai.request.model", "gen_ai.response.finish_reasons", "llm.input_messages.0.message.content",
              "llm.output_messages.0.message.role", "server.address", "input.value", "output.mime_type",
              "db.system", "tool.name", "openinference.span.kind", "service.name", "k8s.pod.name")
METRICS = ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "llm.token_count.prompt",
           "llm.token_count.completion", "http.response.status_code", "rpc.grpc.status_code",
           "http.request.body.size", "gen_ai.request.max_tokens", "retry.count")
PATHS = ("/var/log/app.log", "/etc/nginx/nginx.conf", "/opt/agent/config/settings.yaml", "./src/agent/tools.py",
         "/tmp/pytest-of-ci/run-42/out.json", "C:\\ProgramData\\Agent\\logs\\agent.log",
         "/usr/lib/python3.12/site-packages/httpx/_client.py", "data/2026-11-20/part-0001.parquet",
         "~/.config/agent/credentials.example")


def _order(rng: random.Random) -> str:
    return rng.choice([str(rng.randint(10_000, 99_999)), str(rng.randint(1_000_000, 99_999_999)),
                       f"#{rng.randint(1001, 999_999)}", f"A{rng.randint(100_000, 999_999)}",
                       f"{rng.randint(100, 999)}-{rng.randint(1_000_000, 9_999_999)}"])


def _ticket(rng: random.Random) -> str:
    return rng.choice([f"INC{rng.randint(0, 9_999_999):07d}", f"CS-{rng.randint(1000, 99999)}",
                       f"JIRA-{rng.randint(100, 9999)}", f"case {rng.randint(0, 99_999_999):08d}",
                       f"RMA-{rng.randint(2024, 2026)}-{rng.randint(1, 99999):05d}",
                       f"INV-{rng.randint(2024, 2026)}-{rng.randint(1, 999_999):06d}"])


def _build(rng: random.Random) -> str:
    major, day = rng.randint(100, 131), f"{rng.randint(1, 12)}.{rng.randint(1, 28)}"
    # Chrome's reduced user agent writes its version as N.0.0.0: the shape of an IPv4 address.
    return rng.choice([f"10.0.{rng.randint(17000, 26100)}.{rng.randint(100, 5000)}", f"Chrome/{major}.0.0.0",
                       f"Chrome/{major}.0.{rng.randint(5000, 6800)}.{rng.randint(10, 200)}",
                       f"build {rng.randint(2024, 2026)}.{day}.{rng.randint(1, 9)}"])


NEGATIVES: dict[str, Callable[[random.Random], str]] = {
    "trace_id": lambda r: _hex(r, 32),
    "span_id": lambda r: _hex(r, 16),
    "uuid": lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "timestamp": _timestamp,
    "epoch": _epoch,
    "semver": lambda r: r.choice(["", "v"]) + f"{r.randint(0, 4)}.{r.randint(0, 40)}.{r.randint(0, 30)}"
    + r.choice(["", "", f"-rc.{r.randint(1, 5)}", f"-beta.{r.randint(1, 9)}"]),
    "sha": lambda r: _hex(r, r.choice([7, 8, 40])),
    "sha256": lambda r: "sha256:" + _hex(r, 64),
    "order": _order,
    "ticket": _ticket,
    "path": lambda r: r.choice(PATHS),
    "attribute": lambda r: r.choice(ATTRIBUTES),
    "metric": lambda r: r.choice(METRICS),
    "status": lambda r: str(r.choice([200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504])),
    "amount": _amount,
    "date": _date,
    "model": lambda r: r.choice(MODELS),
    "package": lambda r: r.choice(PACKAGES),
    "count": lambda r: str(r.choice([r.randint(1, 999), r.randint(1000, 200_000)])),
    "duration": lambda r: r.choice([f"{r.randint(3, 30_000)} ms", f"{r.randint(1, 120)}.{r.randint(0, 9)}s",
                                    f"{r.randint(1, 9)}m{r.randint(0, 59)}s"]),
    "build": _build,
    "pod": lambda r: f"{r.choice(['checkout-api', 'agent-worker', 'rag-indexer'])}-{_hex(r, 10)}-{_hex(r, 5)}",
}
