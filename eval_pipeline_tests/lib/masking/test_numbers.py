"""Contract: digit runs are decided by what they are, not by a short list of formats. Phones of many regions,
national and international, validate against libphonenumber's plans; cards of any issuer pass by Luhn and
length in any grouping; IBANs in either case, compact or spaced; URLs follow ``privacy.urls``. The false-alarm
side: epochs, dates, versions, builds, case and order numbers, amounts and Luhn-failing numbers stay, and an
unknown ``privacy.urls`` is a clear error."""

import polars as pl
import pytest

from eval_pipeline.lib import masking
from eval_pipeline.lib.config import URL_MODES, Privacy
from eval_pipeline.lib.masking import detectors, numbers

KEY = b"k1"


def _masked(text: str, urls: str = "all") -> str:
    return masking.mask_series(pl.Series([text]), KEY, urls).texts[0]


@pytest.mark.parametrize("phone", [
    "+1-984-182-0190", "07700 063 966", "(02) 9018 0197", "0490 75 40 81", "+46 (0)8 928 571 38",
    "+49 30 12345678", "0049 30 12345678", "04.66.96.48.85", "+33 6 12 34 56 78", "+81 90-1234-5678",
    "+353850639536", "(+358) 175349352", "919 184 621", "06-55926532", "+55 11 91234-5678", "020 7946 0958",
])
def test_phone_of_any_region_is_masked(phone: str) -> None:
    out = _masked(f"call me at {phone} tomorrow")
    assert "<PHONE:" in out and phone not in out, out


@pytest.mark.parametrize("card", [
    "213196274191658", "1800-402757-79815",  # JCB, 15 digits
    "585445202799", "6759 6284 4022",  # Maestro, 12 digits
    "4361 586 978 282",  # Visa, 13 digits grouped 4-3-3-3
    "9836806945058080",  # an issuer outside every prefix list
    "8147 2580 7720 0906", "4111-1111-1111-1111", "378282246310005",
])
def test_card_of_any_issuer_is_masked(card: str) -> None:
    assert numbers.luhn("".join(c for c in card if c.isdigit())), "the fixture must be Luhn-valid"
    out = _masked(f"charge card {card} please")
    assert "<CARD:" in out and card not in out, out


@pytest.mark.parametrize("iban", [
    "DE89 3704 0044 0532 0130 00", "de89370400440532013000", "gb82 west 1234 5698 7654 32",
    "IR230172626939957535475321", "fr14 2004 1010 0505 0001 3m02 606",
])
def test_iban_in_either_case_is_masked(iban: str) -> None:
    out = _masked(f"IBAN: {iban}, thanks")
    assert "<IBAN:" in out and iban not in out, out


@pytest.mark.parametrize("text", [
    "epoch 1707566738927 and 1707572717947642847", "on 2025-05-11 and 11.05.2025 and 05/11/25",
    "Windows 10.0.19045.3930", "Chrome/131.0.0.0", "version 0.13.27", "case 03209907 closed",
    "order #104577", "ticket CS-10303", "total 6.780,99 EUR", "span 0534756e86ae3731",
    "card 4111 1111 1111 1112 fails Luhn", "trace 4bf92f3577b34da6a3ce929d0e0e4736",
    "uuid 550e8400-e29b-41d4-a716-446655440000", "gen_ai.request.model and k8s.pod.name and user.id",
    "see ./src/agent/tools.py and README.md", "pinned numpy==2.4.6 and openai@4.73.0",
])
def test_trace_look_alikes_stay(text: str) -> None:
    assert _masked(text) == text


def test_urls_follow_the_setting() -> None:
    text = "see https://example.com/u/jane and https://bob:hunter22@example.com/x"
    everything = _masked(text, "all")
    assert "example.com" not in everything and "hunter22" not in everything
    credentials = _masked(text, "credentials_only")
    assert "https://example.com/u/jane" in credentials and "hunter22" not in credentials
    plain = "see https://example.com/u/jane"
    assert _masked(plain, "none") == plain
    assert masking.scan_series(pl.Series([plain]))["value"].to_list() == ["https://example.com/u/jane"]
    assert masking.scan_series(pl.Series([plain]), "none").is_empty()


def test_url_setting_is_validated_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="privacy.urls"):
        Privacy(urls="some")
    with pytest.raises(ValueError, match="privacy.urls"):
        detectors.stages_for("some")
    with pytest.raises(ValueError, match="privacy.name_detector"):
        Privacy(name_detector="spacy-magic")
    with pytest.raises(ValueError, match="privacy.name_entities"):
        Privacy(name_entities=("PERSON", "DATE_TIME"))
    assert set(URL_MODES) == set(detectors.URL_MODES)
