"""A verdict (one judge's score of one record) and every reason a verdict can be ``unknown``, defined once.

A record is a mapping with ``trace_id``, ``request``, ``response``, ``status`` ('ok' | 'error'),
``tool_path``, ``tool_calls`` (name, arguments, result, status per call), ``retrieved_context``,
``latency_ms`` and ``expected_response`` (a reference answer, when the team has one). Nothing is ever
defaulted to ``pass``: whatever stops a judge from grading gives ``unknown`` with one of the reasons
below in ``unknown_reason``. The groups at the end are what the checks, the dashboards and the asset
metadata count, so a new reason is added here and to the one group it belongs to.
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Record = Mapping[str, Any]

# The judge was not asked: nothing to grade, or nobody to grade it.
NO_MODEL_CONFIGURED = "no_model_configured"
MISSING_INPUT = "missing_input"  # the record lacks a field the judge grades
NO_CONTEXT = "no_context"  # groundedness: no retrieved context and no tool result
NO_EXPECTATION = "no_expectation"  # correctness: no reference answer
NOT_APPLICABLE = "not_applicable"  # a guideline judge limited to other tools or statuses
NOT_SAMPLED = "not_sampled"  # a live run left the record for the nightly run
# The judge was asked and gave no answer.
UNPARSEABLE = "unparseable"  # not the expected JSON object
REFUSED = "refused"
TIMEOUT = "timeout"
RETRIES_EXHAUSTED = "retries_exhausted"  # 429 / 5xx / dropped connections until out of retries
CALL_FAILED = "call_failed"  # 400 / 401 / 404: retrying cannot help
BUDGET_EXHAUSTED = "budget_exhausted"
# The judge answered that the interaction does not hold enough to decide. It is the judge's answer, so it
# is cached like a verdict; it counts with the calls that gave no verdict in the unknown rate, where a
# judge abstaining on much of the traffic shows up.
JUDGE_ABSTAINED = "judge_abstained"

# Calls that could have answered and did not: the unknown rate of judges_answer_and_cost_stable counts
# these among the records a judge was asked about (bound into sql/dashboards/judge_unknowns.sql).
NO_ANSWER = (UNPARSEABLE, REFUSED, TIMEOUT, RETRIES_EXHAUSTED, CALL_FAILED, BUDGET_EXHAUSTED, JUDGE_ABSTAINED)
# The provider did not answer the request at all: when every call of a run ends so, the setup is wrong.
CALL_FAILURES = (RETRIES_EXHAUSTED, CALL_FAILED)
# Verdicts the judge was never asked for; left out of the unknown rate.
NOT_ASKED = (NO_MODEL_CONFIGURED, MISSING_INPUT, NO_CONTEXT, NO_EXPECTATION, NOT_APPLICABLE, NOT_SAMPLED)
UNKNOWN_REASONS = NOT_ASKED + NO_ANSWER


@dataclass
class Verdict:
    """One judge's score of one record; the columns of ``judge_scores`` other than the date and time."""

    judge: str
    verdict: Literal["pass", "fail", "unknown"]
    rationale: str
    unknown_reason: str | None
    model: str | None
    prompt_version: str
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    latency_ms: float | None
    cached: bool = False
    trace_id: str | None = None
    parameters: str | None = None  # the decoding parameters, as sorted JSON (LLM judges only)
    input_hash: str | None = None  # sha256 of exactly what the judge was shown (LLM judges only)


# The judge_scores columns a Verdict fills.
SCORE_COLUMNS = tuple(f.name for f in dataclasses.fields(Verdict))


def is_judgement(v: Verdict) -> bool:
    """True when the judge itself answered (a verdict, or its abstention): what the judgement cache keeps.
    Failures (timeouts, errors, budget) are not judgements and are asked again next run."""
    return v.verdict != "unknown" or v.unknown_reason == JUDGE_ABSTAINED


def is_blank(value: Any) -> bool:
    """True for a missing value or a string of whitespace only."""
    return value is None or (isinstance(value, str) and not value.strip())
