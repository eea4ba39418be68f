"""Contract of judge_records: code and LLM judges run on every record, verdicts grouped by judge in record
order; the concurrency limit holds across judges; a judgement is cached by (judge, prompt version, model,
parameters, input hash), a cache hit makes no call and only definite verdicts are cached; identical
inputs are judged once; a budget stops the calls in a seeded random order; without a model litellm is
not even imported."""

import asyncio
import dataclasses
import subprocess
import sys

import pytest

from eval_pipeline.lib.judging import LLM_JUDGES, cache_key, input_hash, judge_records
from eval_pipeline_tests.support.judging import MODEL, by_marker, make_record, server_settings, verdict_tuples
from eval_pipeline_tests.support.openai_server import serve


def test_run_llm_judge_without_model_does_not_import_litellm():
    code = (
        "import sys\n"
        "from eval_pipeline.lib.judging.runner import judge_records\n"
        "run = judge_records([{'trace_id': 't', 'request': 'q', 'response': 'a', 'status': 'ok'}],"
        " ['relevance', 'no_error'])\n"
        "print([x.verdict for x in run.verdicts], 'litellm' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['unknown', 'pass'] False"


def test_judge_records_concurrency_limit_holds_across_judges():
    records = [make_record(f"t{i}", f"[[slow]] question {i}") for i in range(6)]
    with serve(by_marker) as server:
        run = judge_records(records, ["relevance", "safety", "tool_use"], server_settings(server, concurrency=4))
        max_in_flight, count = server.max_in_flight, server.request_count
    assert {v.verdict for v in run.verdicts} == {"pass"}
    assert (max_in_flight, count, run.calls) == (4, 18, 18)


def test_judge_records_reuses_cached_judgements_without_calls():
    records = [make_record("a"), make_record("b", "[[fail]] Hi")]
    store: dict[str, dict] = {}

    def lookup(keys):
        return {k: store[k] for k in keys if k in store}

    with serve(by_marker) as server:
        first = judge_records(records, ["relevance", "no_error"], server_settings(server), lookup=lookup)
        for key, v in first.new_judgements:
            store[key] = dataclasses.asdict(v)
        calls_after_first = server.request_count
        second = judge_records(records, ["relevance", "no_error"], server_settings(server), lookup=lookup)
        calls_after_second = server.request_count
        # Another model is another judgement: not served from the cache.
        third = judge_records(records, ["relevance"], server_settings(server, model="openai/other-judge"), lookup=lookup)

    assert (calls_after_first, first.calls, len(first.new_judgements)) == (2, 2, 2)
    assert calls_after_second == calls_after_first and second.calls == 0 and second.cache_hits == 2
    assert verdict_tuples(second) == verdict_tuples(first)
    assert [v.cached for v in second.verdicts] == [True, True, False, False]
    assert [v.rationale for v in second.verdicts[:2]] == [v.rationale for v in first.verdicts[:2]]
    assert third.calls == 2 and third.cache_hits == 0


def test_judge_records_caches_only_definite_verdicts():
    records = [make_record("a", "[[malformed]] Hi"), make_record("b", "[[500]] Hi")]  # defects: bad answer; server error
    with serve(by_marker) as server:
        run = judge_records(records, ["relevance"], server_settings(server))
    assert [v.unknown_reason for v in run.verdicts] == ["unparseable", "retries_exhausted"]
    assert run.new_judgements == []


def test_cache_key_changes_with_every_part_of_the_identity():
    judge = LLM_JUDGES["relevance"]
    h = input_hash({"request": "q", "response": "a"})
    base = cache_key(judge, MODEL, '{"temperature": 0}', h)
    assert base == cache_key(judge, MODEL, '{"temperature": 0}', input_hash({"response": "a", "request": "q"}))
    variants = [
        cache_key(LLM_JUDGES["safety"], MODEL, '{"temperature": 0}', h),
        cache_key(dataclasses.replace(judge, prompt_version="relevance-v3"), MODEL, '{"temperature": 0}', h),
        cache_key(judge, "openai/other", '{"temperature": 0}', h),
        cache_key(judge, MODEL, '{"temperature": 0.5}', h),
        cache_key(judge, MODEL, '{"temperature": 0}', input_hash({"request": "q", "response": "b"})),
    ]
    assert len({base, *variants}) == 6


def test_judge_records_judges_identical_inputs_once():
    records = [make_record("a"), make_record("b")]  # the same request and response twice
    with serve(by_marker) as server:
        run = judge_records(records, ["relevance"], server_settings(server))
        assert server.request_count == 1
    assert [(v.trace_id, v.verdict, v.cached) for v in run.verdicts] == [("a", "pass", False), ("b", "pass", True)] or \
        [(v.trace_id, v.verdict, v.cached) for v in run.verdicts] == [("a", "pass", True), ("b", "pass", False)]


def test_budget_stops_spending_and_leaves_a_random_sample_judged():
    records = [make_record(f"t{i:02d}", f"question {i}") for i in range(20)]
    per_call = 42 * 1e-3 + 7 * 1e-3  # tokens x configured price
    settings = {"input_price_per_mtok": 1000.0, "output_price_per_mtok": 1000.0, "budget_usd": 5.5 * per_call,
                "concurrency": 4}
    with serve(by_marker) as server:
        run = judge_records(records, ["relevance"], server_settings(server, **settings))
        calls = server.request_count
        again = judge_records(records, ["relevance"], server_settings(server, **settings))

    judged = [v.trace_id for v in run.verdicts if v.verdict == "pass"]
    assert calls == run.calls == len(judged) == 5
    assert run.cost_usd == pytest.approx(5 * per_call) and run.cost_usd <= settings["budget_usd"]
    assert run.budget_exhausted == 15
    assert {v.unknown_reason for v in run.verdicts if v.verdict == "unknown"} == {"budget_exhausted"}
    # A random sample, not the first records; the same seed draws the same sample.
    assert judged != [f"t{i:02d}" for i in range(5)]
    assert judged == [v.trace_id for v in again.verdicts if v.verdict == "pass"]


def test_judge_records_runs_code_and_llm_judges():
    records = [make_record("a"), make_record("b", "[[fail]] Hi", status="error")]
    with serve(by_marker) as server:
        run = judge_records(records, ["no_error", "relevance", "non_empty_response"], server_settings(server))

    assert [(j, t, v) for j, t, v, _ in verdict_tuples(run)] == [
        ("no_error", "a", "pass"),
        ("no_error", "b", "fail"),
        ("relevance", "a", "pass"),
        ("relevance", "b", "fail"),
        ("non_empty_response", "a", "pass"),
        ("non_empty_response", "b", "pass"),
    ]
    assert run.calls == 2 and run.input_tokens == 84 and run.output_tokens == 14


def test_judge_records_works_inside_a_running_event_loop():
    async def from_async_code():
        return judge_records([make_record("a")], ["relevance"])

    (verdict,) = asyncio.run(from_async_code()).verdicts
    assert verdict.unknown_reason == "no_model_configured"


def test_judge_records_rejects_unknown_judge():
    with pytest.raises(ValueError, match=r"Unknown judge\(s\) 'helpfulness'; the judges available are: "):
        judge_records([make_record("a")], ["no_error", "helpfulness"])
