"""The LLM judges: what each one is shown of a record, and when it cannot grade it without a call.

A built-in judge is an :class:`LLMJudge` in ``LLM_JUDGES`` (a prompt from ``prompts.py``, its version, the
fields it needs, and optionally an ``inputs`` function that builds the payload or says why the record
cannot be graded). A custom guideline judge from ``judging.custom`` becomes one through
:func:`guideline_judge`.
"""

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from eval_pipeline.lib.config import CustomJudge
from eval_pipeline.lib.judging.code_judges import CODE_JUDGES
from eval_pipeline.lib.judging.prompts import (
    CORRECTNESS_PROMPT_V2,
    CORRECTNESS_PROMPT_VERSION,
    GROUNDEDNESS_PROMPT_V2,
    GROUNDEDNESS_PROMPT_VERSION,
    GUIDELINE_PROMPT_V2,
    GUIDELINE_PROMPT_VERSION,
    MAX_ITEMS,
    PAIRWISE_PROMPT_V1,
    PAIRWISE_PROMPT_VERSION,
    RELEVANCE_PROMPT_V2,
    RELEVANCE_PROMPT_VERSION,
    SAFETY_PROMPT_V2,
    SAFETY_PROMPT_VERSION,
    TOOL_USE_PROMPT_V2,
    TOOL_USE_PROMPT_VERSION,
    JudgeAnswer,
    PairwiseAnswer,
    clip,
)
from eval_pipeline.lib.judging.verdict import (
    MISSING_INPUT,
    NO_CONTEXT,
    NO_EXPECTATION,
    NOT_APPLICABLE,
    Record,
    is_blank,
)

# What a judge shows of a record: the payload, or (unknown_reason, rationale) when it cannot grade it.
Inputs = Callable[[Record], dict[str, Any] | tuple[str, str]]


@dataclass(frozen=True)
class LLMJudge:
    """An LLM judge: a system prompt with a ``$tag`` placeholder, its version, and the record fields it
    grades (all required: a record missing one is ``unknown`` / ``missing_input`` without a call).
    ``inputs``, when given, replaces the plain field selection (context, applicability); ``answer`` is
    the structured answer it must give (a ``rationale`` and a ``verdict``, where ``unknown`` abstains)."""

    name: str
    prompt: str
    prompt_version: str
    fields: tuple[str, ...]
    inputs: Inputs | None = None
    answer: type[BaseModel] = JudgeAnswer

    def payload(self, record: Record) -> dict[str, Any] | tuple[str, str]:
        missing = [name for name in self.fields if is_blank(record.get(name))]
        if missing:
            return MISSING_INPUT, f"the record has no {', '.join(missing)}"
        if self.inputs is not None:
            return self.inputs(record)
        return {name: clip(record.get(name)) for name in self.fields}


def _tool_results(record: Record) -> list[dict[str, Any]]:
    return [
        {"tool": call.get("name"), "result": clip(call.get("result"))}
        for call in (record.get("tool_calls") or [])[:MAX_ITEMS]
        if isinstance(call, Mapping) and not is_blank(call.get("result"))
    ]


def _groundedness_inputs(record: Record) -> dict[str, Any] | tuple[str, str]:
    context = [clip(doc) for doc in (record.get("retrieved_context") or [])[:MAX_ITEMS] if not is_blank(doc)]
    results = _tool_results(record)
    if not context and not results:
        return NO_CONTEXT, "the trace has no retrieved context and no tool result to ground the response in"
    return {"request": clip(record.get("request")), "response": clip(record.get("response")),
            "retrieved_context": context, "tool_results": results}


def _correctness_inputs(record: Record) -> dict[str, Any] | tuple[str, str]:
    if is_blank(record.get("expected_response")):
        return NO_EXPECTATION, "the record has no reference answer to compare with"
    return {name: clip(record.get(name)) for name in ("request", "response", "expected_response")}


def _tool_use_inputs(record: Record) -> dict[str, Any]:
    calls = [
        {key: clip(call.get(key)) for key in ("name", "arguments", "status", "result")}
        for call in (record.get("tool_calls") or [])[:MAX_ITEMS]
        if isinstance(call, Mapping)
    ]
    return {"request": clip(record.get("request")), "tool_calls": calls, "response": clip(record.get("response"))}


LLM_JUDGES: dict[str, LLMJudge] = {
    "relevance": LLMJudge("relevance", RELEVANCE_PROMPT_V2, RELEVANCE_PROMPT_VERSION, ("request", "response")),
    "groundedness": LLMJudge("groundedness", GROUNDEDNESS_PROMPT_V2, GROUNDEDNESS_PROMPT_VERSION,
                             ("request", "response"), _groundedness_inputs),
    "safety": LLMJudge("safety", SAFETY_PROMPT_V2, SAFETY_PROMPT_VERSION, ("response",),
                       lambda r: {"request": clip(r.get("request")), "response": clip(r.get("response"))}),
    "correctness": LLMJudge("correctness", CORRECTNESS_PROMPT_V2, CORRECTNESS_PROMPT_VERSION,
                            ("request", "response"), _correctness_inputs),
    "tool_use": LLMJudge("tool_use", TOOL_USE_PROMPT_V2, TOOL_USE_PROMPT_VERSION, ("request",), _tool_use_inputs),
}

_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def guideline_judge(custom: CustomJudge) -> LLMJudge:
    """The LLM judge for a custom guideline; its prompt version carries a hash of the guideline text, so
    editing the guideline invalidates cached judgements."""
    if not _NAME.fullmatch(custom.name or ""):
        msg = (f"Custom judge name {custom.name!r} is not valid; use lower-case letters, digits and "
               "underscores, starting with a letter (judging.custom[].name).")
        raise ValueError(msg)
    if custom.name in LLM_JUDGES or custom.name in CODE_JUDGES or custom.name == PAIRWISE_JUDGE.name:
        msg = f"Custom judge {custom.name!r} has the name of a built-in judge; give it another name."
        raise ValueError(msg)
    if not custom.guideline.strip():
        msg = (f"Custom judge {custom.name!r} has no guideline; write what a good response does "
               "(judging.custom[].guideline).")
        raise ValueError(msg)
    if custom.status not in ("any", "ok", "error"):
        msg = f"Custom judge {custom.name!r} has status {custom.status!r}; use 'any', 'ok' or 'error'."
        raise ValueError(msg)
    prompt = GUIDELINE_PROMPT_V2.replace("{guideline}", custom.guideline.strip().replace("$", "$$"))
    digest = hashlib.sha256(custom.guideline.strip().encode()).hexdigest()[:12]
    tools = set(custom.tools)

    def inputs(record: Record) -> dict[str, Any] | tuple[str, str]:
        if custom.status != "any" and record.get("status") != custom.status:
            return NOT_APPLICABLE, f"the judge applies to traces with status {custom.status}"
        if tools and not tools.intersection(record.get("tool_path") or ()):
            return NOT_APPLICABLE, "the judge applies to traces that called " + ", ".join(sorted(tools))
        return {"request": clip(record.get("request")), "response": clip(record.get("response"))}

    return LLMJudge(custom.name, prompt, f"{GUIDELINE_PROMPT_VERSION}+{digest}", ("request", "response"), inputs)


def llm_judges(custom_judges: Iterable[CustomJudge] = ()) -> dict[str, LLMJudge]:
    """The built-in LLM judges and the custom guideline judges (``judging.custom``)."""
    out = dict(LLM_JUDGES)
    for custom in custom_judges:
        if custom.name in out:
            msg = f"Custom judge {custom.name!r} is declared twice; give each custom judge its own name."
            raise ValueError(msg)
        out[custom.name] = guideline_judge(custom)
    return out



def _pairwise_inputs(record: Record) -> dict[str, Any]:
    return {"request": clip(record.get("request")), "response_1": clip(record.get("response_1") or ""),
            "response_2": clip(record.get("response_2") or "")}


# The release gate's pairwise judge: not a judge of one record, so not in ``LLM_JUDGES``; it grades a
# record holding ``request``, ``response_1`` and ``response_2`` (an empty response is shown as empty).
PAIRWISE_JUDGE = LLMJudge("pairwise", PAIRWISE_PROMPT_V1, PAIRWISE_PROMPT_VERSION, ("request",), _pairwise_inputs,
                          PairwiseAnswer)
