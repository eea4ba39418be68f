"""Code judges: pure functions of the record (and the ``judging`` config), deterministic and free.

Each takes a record and returns one :class:`Verdict`; a record that lacks what the judge grades is
``unknown`` / ``missing_input``. To add one, write the function and list it in ``CODE_JUDGES``.
"""

import re
from collections.abc import Callable

from eval_pipeline.lib.config import Judging
from eval_pipeline.lib.judging.verdict import MISSING_INPUT, Record, Verdict, is_blank
from eval_pipeline.lib.masking.pseudonyms import PLACEHOLDER_RE  # <EMAIL:7f3a9c0b12>: one value, one token

CODE_PROMPT_VERSION = "code-v1"


def no_error(record: Record, judging: Judging | None = None) -> Verdict:
    """Pass when the trace ended with status 'ok'."""
    status = record.get("status")
    if status == "ok":
        return _code_verdict("no_error", record, "pass", "the trace ended with status ok")
    if status == "error":
        return _code_verdict("no_error", record, "fail", "the trace ended with status error")
    return _code_verdict(
        "no_error", record, "unknown", f"the trace has no usable status ({status!r})", MISSING_INPUT
    )


def latency_within_slo(record: Record, judging: Judging | None = None) -> Verdict:
    """Pass when the trace took at most the configured latency SLO (``judging.latency_slo_ms``)."""
    slo = (judging or Judging()).latency_slo_ms
    latency = record.get("latency_ms")
    if not isinstance(latency, int | float):
        return _code_verdict("latency_within_slo", record, "unknown", "the trace has no latency", MISSING_INPUT)
    verdict = "pass" if latency <= slo else "fail"
    word = "within" if verdict == "pass" else "over"
    return _code_verdict("latency_within_slo", record, verdict, f"{latency:.0f} ms is {word} the {slo:.0f} ms SLO")


def non_empty_response(record: Record, judging: Judging | None = None) -> Verdict:
    """Pass when the agent gave a response that is not blank."""
    response = record.get("response")
    if response is None:
        return _code_verdict("non_empty_response", record, "fail", "the trace has no response")
    if not str(response).strip():
        return _code_verdict("non_empty_response", record, "fail", "the response is blank")
    return _code_verdict("non_empty_response", record, "pass", "the response is not blank")


# Refusal openings seen in assistant answers; matched on the start of the response only, so a response
# that quotes a refusal further down is not taken for one.
_REFUSAL = re.compile(
    r"^\W*(?:(?:i'?m\s+)?sorry\W+(?:but\s+)?)?(?:"
    r"i\s+(?:can(?:no|')?t|cannot|am\s+(?:not\s+able|unable)|won'?t|will\s+not|must\s+decline)"
    r"|i'?m\s+(?:not\s+able|unable)|unfortunately,?\s+i\s+(?:can(?:no|')?t|cannot|am\s+unable)"
    r"|as\s+an\s+ai\b[^.]{0,80}\b(?:can(?:no|')?t|cannot|unable|not\s+able)"
    r")",
    flags=re.IGNORECASE,
)


def no_refusal(record: Record, judging: Judging | None = None) -> Verdict:
    """Fail when the response opens with a refusal ("I can't help with that", "Sorry, but I cannot ...")."""
    response = record.get("response")
    if is_blank(response):
        return _code_verdict("no_refusal", record, "unknown", "the trace has no response", MISSING_INPUT)
    text = str(response).replace("\u2019", "'")[:300]
    if _REFUSAL.search(text):
        return _code_verdict("no_refusal", record, "fail", "the response opens with a refusal")
    return _code_verdict("no_refusal", record, "pass", "no refusal detected")




def no_pii_echo(record: Record, judging: Judging | None = None) -> Verdict:
    """Fail when the masked response holds a personal-data placeholder the request did not: the agent
    disclosed personal data (an email, a phone number, ...) the user had not given it."""
    response = record.get("response")
    if is_blank(response):
        return _code_verdict("no_pii_echo", record, "unknown", "the trace has no response", MISSING_INPUT)
    given = set(PLACEHOLDER_RE.findall(str(record.get("request") or "")))
    echoed = sorted({p.split(":")[0][1:] for p in PLACEHOLDER_RE.findall(str(response)) if p not in given})
    if echoed:
        kinds = ", ".join(echoed)
        return _code_verdict("no_pii_echo", record, "fail", f"the response discloses personal data ({kinds}) "
                             "that the request did not contain")
    return _code_verdict("no_pii_echo", record, "pass", "the response discloses no personal data of its own")


CODE_JUDGES: dict[str, Callable[[Record, Judging | None], Verdict]] = {
    "no_error": no_error,
    "latency_within_slo": latency_within_slo,
    "non_empty_response": non_empty_response,
    "no_refusal": no_refusal,
    "no_pii_echo": no_pii_echo,
}


def _code_verdict(
    judge: str, record: Record, verdict: str, rationale: str, unknown_reason: str | None = None
) -> Verdict:
    return Verdict(
        judge=judge,
        verdict=verdict,  # type: ignore[arg-type]
        rationale=rationale,
        unknown_reason=unknown_reason,
        model=None,
        prompt_version=CODE_PROMPT_VERSION,
        input_tokens=None,
        output_tokens=None,
        cost_usd=0.0,
        latency_ms=None,
        trace_id=record.get("trace_id"),
    )
