"""Contract of the LLM judge catalog: each built-in judge is shown what it grades and is unknown (with its
reason, without a call) when the record lacks it; custom guideline judges from the YAML config apply to
their records only and version their guideline, and bad declarations are refused with a sentence."""

import dataclasses

import pytest

from eval_pipeline.lib.config import Config, CustomJudge, _build
from eval_pipeline.lib.judging import LLM_JUDGES, guideline_judge, judge_records
from eval_pipeline_tests.support.judging import (
    by_marker,
    make_record,
    payload_of,
    run_judge,
    server_settings,
    verdict_tuples,
)
from eval_pipeline_tests.support.openai_server import serve


def test_run_llm_judge_marks_missing_input_without_calling():
    records = [make_record("a", response=None), make_record("b", request="  ")]  # defects: no response; blank request
    with serve(by_marker) as server:
        verdicts = run_judge(records, server)
        assert server.request_count == 0
    assert [(v.verdict, v.unknown_reason) for v in verdicts] == [("unknown", "missing_input")] * 2


def test_groundedness_sees_context_and_tool_results_and_is_unknown_without_them():
    records = [
        make_record("a", retrieved_context=["Paris is the capital of France."]),
        make_record("b", retrieved_context=None, tool_calls=None),  # defect: nothing to ground the response in
    ]
    with serve(by_marker) as server:
        verdicts = run_judge(records, server, judge="groundedness")
        (received,) = server.requests

    assert [(v.verdict, v.unknown_reason, v.prompt_version) for v in verdicts] == [
        ("pass", None, "groundedness-v2"), ("unknown", "no_context", "groundedness-v2")]
    assert payload_of(received) == {"request": "What is the capital of France?", "response": "Paris.",
                                  "retrieved_context": ["Paris is the capital of France."],
                                  "tool_results": [{"tool": "search", "result": "Paris is the capital."}]}
    assert "supported by the context" in received.system_text


def test_correctness_compares_with_the_reference_answer_only_when_there_is_one():
    records = [make_record("a", expected_response="Paris"), make_record("b")]  # defect (b): no reference answer
    with serve(by_marker) as server:
        verdicts = run_judge(records, server, judge="correctness")
        (received,) = server.requests
    assert [(v.verdict, v.unknown_reason) for v in verdicts] == [("pass", None), ("unknown", "no_expectation")]
    assert payload_of(received)["expected_response"] == "Paris"


def test_tool_use_and_safety_see_what_they_grade():
    with serve(by_marker) as server:
        run_judge([make_record("a")], server, judge="tool_use")
        run_judge([make_record("a")], server, judge="safety")
        tool_use, safety = server.requests
    assert payload_of(tool_use)["tool_calls"] == [{"name": "search", "arguments": '{"q": "capital of France"}',
                                                 "status": "ok", "result": "Paris is the capital."}]
    assert "tools" in tool_use.system_text
    assert set(payload_of(safety)) == {"request", "response"}
    assert "harmful" in safety.system_text
    assert set(LLM_JUDGES) == {"relevance", "groundedness", "safety", "correctness", "tool_use"}


def test_guideline_judge_applies_to_its_records_and_versions_its_guideline():
    custom = CustomJudge("cites_order_number", "Quote the customer's $order number.", tools=("lookup_order",))
    records = [make_record("a", tool_path=["lookup_order"]), make_record("b", tool_path=["search"])]
    with serve(by_marker) as server:
        run = judge_records(records, ["cites_order_number"], server_settings(server, custom=(custom,)))
        (received,) = server.requests
    assert verdict_tuples(run) == [("cites_order_number", "a", "pass", None),
                              ("cites_order_number", "b", "unknown", "not_applicable")]
    assert "Quote the customer's $order number." in received.system_text
    version = run.verdicts[0].prompt_version
    assert version.startswith("guideline-v2+")
    edited = guideline_judge(dataclasses.replace(custom, guideline="Quote the order number."))
    assert edited.prompt_version != version


def test_guideline_judge_rejects_bad_declarations():
    with pytest.raises(ValueError, match="has the name of a built-in judge"):
        guideline_judge(CustomJudge("relevance", "Be relevant."))
    with pytest.raises(ValueError, match="has no guideline"):
        guideline_judge(CustomJudge("polite", "  "))
    with pytest.raises(ValueError, match="use 'any', 'ok' or 'error'"):
        guideline_judge(CustomJudge("polite", "Be polite.", status="failed"))


def test_config_reads_custom_judges_from_yaml_mappings():
    config = _build(Config, {"judging": {"budget_usd": 2, "custom": [
        {"name": "polite", "guideline": "Be polite.", "tools": ["a", "b"], "status": "ok"},
        {"name": "brief", "guideline": "Be brief."}]}}, "eval.yaml")
    assert [(c.name, c.tools, c.status) for c in config.judging.custom] == [
        ("polite", ("a", "b"), "ok"), ("brief", (), "any")]
    assert config.judging.budget_usd == 2.0
    with pytest.raises(ValueError, match=r"Unknown setting\(s\) \['rubric'\] in eval.yaml.judging.custom\[0\]"):
        _build(Config, {"judging": {"custom": [{"name": "x", "rubric": "typo"}]}}, "eval.yaml")
