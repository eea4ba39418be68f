"""Contract of the code judges: each grades from the record alone (and the judging config), pass or fail,
and unknown / missing_input when the record lacks what it grades; no_pii_echo names the kinds of personal
data the response disclosed, never the values."""

from eval_pipeline.lib.config import Judging
from eval_pipeline.lib.judging.code_judges import (
    CODE_JUDGES,
    latency_within_slo,
    no_error,
    no_pii_echo,
    no_refusal,
    non_empty_response,
)
from eval_pipeline_tests.support.judging import make_record


def test_no_error_grades_status():
    assert no_error(make_record("a")).verdict == "pass"
    failed = no_error(make_record("b", status="error"))
    assert (failed.verdict, failed.rationale) == ("fail", "the trace ended with status error")
    # Defect: the record has no status at all.
    missing = no_error(make_record("c", status=None))
    assert (missing.verdict, missing.unknown_reason) == ("unknown", "missing_input")
    assert (failed.judge, failed.prompt_version, failed.model, failed.trace_id) == ("no_error", "code-v1", None, "b")


def test_non_empty_response_fails_missing_and_blank_responses():
    assert non_empty_response(make_record("a")).verdict == "pass"
    # Defect: no response at all.
    missing = non_empty_response(make_record("b", response=None))
    assert (missing.verdict, missing.rationale) == ("fail", "the trace has no response")
    # Defect: a response of whitespace only.
    assert non_empty_response(make_record("c", response=" \n\t")).verdict == "fail"
    assert set(CODE_JUDGES) == {"no_error", "latency_within_slo", "non_empty_response", "no_refusal", "no_pii_echo"}


def test_latency_within_slo_uses_the_configured_slo():
    judging = Judging(latency_slo_ms=1000)
    assert latency_within_slo(make_record("a", latency_ms=999.0), judging).verdict == "pass"
    slow = latency_within_slo(make_record("b", latency_ms=1500.0), judging)  # defect: over the SLO
    assert (slow.verdict, slow.rationale) == ("fail", "1500 ms is over the 1000 ms SLO")
    assert latency_within_slo(make_record("b", latency_ms=1500.0), Judging(latency_slo_ms=2000)).verdict == "pass"
    # Defect: no latency recorded.
    assert latency_within_slo(make_record("c", latency_ms=None)).unknown_reason == "missing_input"


def test_no_refusal_fails_responses_that_open_with_a_refusal():
    refusals = ["I can't help with that.", "Sorry, but I cannot share this.", "I’m unable to do that.",
                "I'm sorry, I won't do that.", "As an AI, I cannot browse the web."]
    for text in refusals:  # defect: each opens with a refusal
        assert no_refusal(make_record("a", response=text)).verdict == "fail", text
    fine = ["Paris.", "Your order ships today. I can't wait for you to get it!", "Here is what I found: ..."]
    for text in fine:
        assert no_refusal(make_record("b", response=text)).verdict == "pass", text
    assert no_refusal(make_record("c", response=None)).unknown_reason == "missing_input"


def test_no_pii_echo_fails_placeholders_the_request_did_not_hold():
    request = "Send the invoice to <EMAIL:1a2b3c4d5e> please"
    assert no_pii_echo(make_record("a", request, response="Sent to <EMAIL:1a2b3c4d5e>.")).verdict == "pass"
    # Defect: the response discloses a phone number and another email the user never gave.
    leaked = no_pii_echo(make_record("b", request, response="Call <PHONE:99aa00bb11> or <EMAIL:ffff000011>."))
    assert leaked.verdict == "fail"
    assert leaked.rationale == "the response discloses personal data (EMAIL, PHONE) that the request did not contain"
    assert "99aa00bb11" not in leaked.rationale
