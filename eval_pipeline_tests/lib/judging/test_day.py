"""Contract of score_day: the cache key of a judgement is stable (pinned for the current prompts, v2), so a
warehouse judged with them gives cache hits later (no call), while judgements of the retired v1 prompts are
never reused for the new ones; the rows it returns are what judge_scores and
judge_cache hold, and a day stored from them is judged again for free; a live run judges a keyed-hash
sample with the LLM judges and every record with the code judges, the rest unknown / not_sampled; the
warnings name a setup that makes every call fail, a spent budget and a judge model without a price (whose
spend shows as unpriced, never as $0), and stay quiet otherwise."""

import datetime as dt
import functools
import json
from pathlib import Path

import pytest

from eval_pipeline.lib import warehouse
from eval_pipeline.lib.config import Config, CustomJudge, Judging, Monitoring
from eval_pipeline.lib.judging import Endpoint, cache_key, input_hash, judge_settings, llm_judges, score_day
from eval_pipeline.lib.judging.day import unit_hash
from eval_pipeline.lib.warehouse import insert_rows, load_sql
from eval_pipeline_tests.support.judging import MODEL, by_marker, make_record
from eval_pipeline_tests.support.openai_server import Reply, serve

DAY = dt.date(2026, 11, 20)
MENTIONS_ORDER = CustomJudge("mentions_order", "The response mentions the order the user asked about.",
                             ("lookup_order",))
# A record and the keys of its judgements (model openai/test-judge, default decoding parameters).
FIXED_RECORD = {"trace_id": "0" * 32, "request": "Where is order 7?", "response": "Order 7 ships on Friday.",
                "status": "ok", "tool_path": ["lookup_order"], "retrieved_context": ["Orders ship in 2 days."],
                "tool_calls": [{"name": "lookup_order", "arguments": "{}", "result": "shipped", "status": "ok"}],
                "latency_ms": 900.0, "expected_response": None}
# The golden keys of the v2 prompts (rationale first, abstention allowed; answer schema JudgeAnswer-v2).
# Stored in judge_cache, they must keep being found: a change that moves them makes every cached
# judgement a miss, so change them only together with a new prompt or schema version.
KEYS_V2 = {
    "relevance": "1ad4a4673cd89748d71bfb45a68e848f82b6fd567b73ba4f0cdd84e9d363c427",
    "groundedness": "099fcfffd508c68430856b76c11ddfc4c0b26eca0f67b53cd562f1ebf734e673",
    "mentions_order": "1b0ca90aac9da4ce6b0b550de2fc488a9c621d561a5c8f9e7ca0bc2cb77b2c25",
}
# The keys lib/judges.py gave the same judgements at commit 725c31f with the v1 prompts (verdict first,
# no abstention), pinned until the abstaining judges retired those prompts on purpose.
KEYS_V1 = {
    "relevance": "6edd87b1623f937b5b01932a453cd2f6787e38738f53ca7a273648ba660b46a9",
    "groundedness": "05c0b8759ca6bcb3ef069c59a97c98c80b6881d3e7181d1e9516b29320ff6151",
    "mentions_order": "4fef277679d3c1dcfaaf1dbc678d0543aff6fc9046f90d2ccde44b699add16b1",
}


def _config(**judging) -> Config:
    return Config(judging=Judging(**judging))


def _store_day(db: Path, records: list[dict]) -> None:
    """The day's eval records with their masked tool calls, as the upstream assets leave them."""
    with warehouse.connect(db) as con:
        for r in records:
            con.execute("INSERT INTO eval_dataset (trace_id, trace_date, request, response, tool_path, "
                        "retrieved_context, status, latency_ms, weight, tool_calls) "
                        "VALUES ($t, $d, $q, $a, $p, $c, $s, $l, 1.0, $calls)",
                        {"t": r["trace_id"], "d": DAY, "q": r["request"], "a": r["response"], "p": r["tool_path"],
                         "c": r["retrieved_context"], "s": r["status"], "l": r["latency_ms"],
                         "calls": r["tool_calls"]})


def _read_day(db: Path) -> list[dict]:
    with warehouse.connect(db) as con:
        return con.sql(load_sql("judging/judge_records"), params={"day": DAY}).to_arrow_table().to_pylist()


def test_cache_key_of_a_fixed_record_is_unchanged():
    config = _config(custom=(MENTIONS_ORDER,))
    settings = judge_settings(config, Endpoint(model=MODEL))
    parameters = json.dumps(settings.parameters(), sort_keys=True)
    catalog = llm_judges(config.judging.custom)
    keys = {name: cache_key(catalog[name], MODEL, parameters, input_hash(catalog[name].payload(FIXED_RECORD)))
            for name in KEYS_V2}
    assert keys == KEYS_V2


def _score_with_stored(tmp_path: Path, keys: dict[str, str]) -> tuple[int, object]:
    """Score FIXED_RECORD with judge_cache holding a 'fail' judgement under each of ``keys``."""
    db = tmp_path / "wh.duckdb"
    _store_day(db, [FIXED_RECORD])
    with warehouse.connect(db) as con:
        for judge, key in keys.items():
            con.execute("INSERT INTO judge_cache (cache_key, judge, model, verdict, rationale, input_tokens, "
                        "output_tokens, cost_usd) VALUES ($k, $j, $m, 'fail', 'stored before', 40, 6, 0.002)",
                        {"k": key, "j": judge, "m": MODEL})
    config = _config(judges=("relevance", "groundedness"), custom=(MENTIONS_ORDER,))
    with serve(by_marker) as server:
        scored = score_day(_read_day(db), config, Endpoint(MODEL, server.base_url, "sk-test"), day=DAY,
                           connect=functools.partial(warehouse.connect, db))
        return server.request_count, scored


def test_score_day_finds_judgements_stored_under_the_pinned_keys(tmp_path: Path):
    sent, scored = _score_with_stored(tmp_path, KEYS_V2)
    assert sent == 0
    assert (scored.run.calls, scored.run.cache_hits, scored.cache_rows) == (0, 3, [])
    assert [(v.judge, v.verdict, v.rationale, v.cached, v.cost_usd) for v in scored.run.verdicts] == [
        (judge, "fail", "stored before", True, 0.002) for judge in KEYS_V2]


def test_score_day_does_not_reuse_judgements_of_the_retired_v1_prompts(tmp_path: Path):
    # A new prompt version is a new cache key: the v1 judgements were asked another question.
    sent, scored = _score_with_stored(tmp_path, KEYS_V1)
    assert (sent, scored.run.calls, scored.run.cache_hits) == (3, 3, 0)
    assert [(v.judge, v.verdict, v.cached, v.prompt_version.split("+")[0]) for v in scored.run.verdicts] == [
        ("relevance", "pass", False, "relevance-v2"), ("groundedness", "pass", False, "groundedness-v2"),
        ("mentions_order", "pass", False, "guideline-v2")]


def test_score_day_rows_fill_judge_scores_and_judge_cache_and_a_rerun_is_free(tmp_path: Path):
    db = tmp_path / "wh.duckdb"
    _store_day(db, [make_record(f"{i:032x}", f"Where is order {i}?", tool_path=["lookup_order"]) for i in range(4)])
    config = _config(judges=("no_error", "relevance"))
    connect = functools.partial(warehouse.connect, db)
    with serve(by_marker) as server:
        endpoint = Endpoint(MODEL, server.base_url, "sk-test")
        first = score_day(_read_day(db), config, endpoint, day=DAY, connect=connect)
        with warehouse.connect(db) as con:
            insert_rows(con, "judging/judge_scores_insert", "score_rows", first.score_rows)
            insert_rows(con, "judging/judge_cache_insert", "new_judgements", first.cache_rows)
        second = score_day(_read_day(db), config, endpoint, day=DAY, connect=connect)
        sent = server.request_count
    with warehouse.connect(db) as con:
        stored = con.execute("SELECT judge, count(*), count(DISTINCT trace_date), bool_and(scored_at IS NOT NULL) "
                             "FROM judge_scores GROUP BY judge ORDER BY judge").fetchall()
        cached = con.execute("SELECT count(*) FROM judge_cache WHERE judge = 'relevance'").fetchall()
    assert stored == [("no_error", 4, 1, True), ("relevance", 4, 1, True)]
    assert cached == [(4,)]
    assert (sent, first.run.calls, second.run.calls, second.run.cache_hits) == (4, 4, 0, 4)
    assert first.verdict_table() == ("| judge | pass | fail | unknown |\n|---|---|---|---|\n"
                                     "| no_error | 4 | 0 | 0 |\n| relevance | 4 | 0 | 0 |\n")
    # the test server's model has no price: the spend is unknown, and says so
    assert first.warnings() == [
        "Judge spend cannot be priced for openai/test-judge: litellm's price map does not know the model. Set "
        "judging.input_price_per_mtok and judging.output_price_per_mtok; until then spend shows as unpriced."]
    assert first.spend()["cost_usd"] == "unpriced" and first.spend()["unpriced_calls"] == 4
    assert first.unpriced_models() == ["openai/test-judge"] and first.live_sampled is None


def test_score_day_live_run_samples_llm_judges_and_code_judges_see_every_record(tmp_path: Path):
    records = [make_record(f"{i:032x}") for i in range(40)]
    config = Config(judging=Judging(judges=("no_error", "relevance")), monitoring=Monitoring())
    connect = functools.partial(warehouse.connect, tmp_path / "wh.duckdb")
    live = score_day(records, config, Endpoint(), day=DAY, connect=connect, live=True, live_sample_rate=0.5)
    nightly = score_day(records, config, Endpoint(), day=DAY, connect=connect, live=False, live_sample_rate=0.5)

    sampled = {r["trace_id"] for r in records if unit_hash(config.sampling.seed, r["trace_id"]) < 0.5}
    reasons = {(v.judge, v.trace_id): v.unknown_reason for v in live.run.verdicts}
    assert 0 < len(sampled) < len(records) and live.live_sampled == len(sampled)
    assert len(live.score_rows) == 2 * len(records)
    assert all(reasons[("no_error", r["trace_id"])] is None for r in records)  # code judges: every record
    assert {t for (j, t), reason in reasons.items() if j == "relevance" and reason == "no_model_configured"} == sampled
    assert {t for (j, t), reason in reasons.items() if j == "relevance" and reason == "not_sampled"} == \
        {r["trace_id"] for r in records} - sampled
    assert nightly.live_sampled is None
    assert {v.unknown_reason for v in nightly.run.verdicts if v.judge == "relevance"} == {"no_model_configured"}


def test_score_day_warns_when_every_call_fails_and_when_the_budget_ran_out(tmp_path: Path):
    records = [make_record(f"{i:032x}", f"question {i}") for i in range(3)]
    connect = functools.partial(warehouse.connect, tmp_path / "wh.duckdb")
    config = _config(judges=("relevance",), num_retries=0)
    with serve(lambda request: Reply(status=401, content="Incorrect API key provided.")) as server:
        failing = score_day(records, config, Endpoint(MODEL, server.base_url, "sk-wrong"), day=DAY, connect=connect)
    (warning,) = failing.warnings()
    assert warning.startswith("Every judge call failed (3); first error: AuthenticationError")
    assert "EVAL_JUDGE_MODEL" in warning

    priced = _config(judges=("relevance",), budget_usd=0.06, input_price_per_mtok=1000.0, output_price_per_mtok=1000.0)
    with serve(by_marker) as server:
        spent = score_day(records, priced, Endpoint(MODEL, server.base_url, "sk-test"), day=DAY, connect=connect)
    assert spent.warnings() == ["The judging budget of 0.06 USD ran out: 2 judgements left unknown (budget_exhausted)."]
    assert spent.unknown_reasons() == {"budget_exhausted": 2}
    assert spent.spend()["calls"] == 1 and spent.spend()["cost_usd"] == pytest.approx(0.049)
    assert spent.spend()["unpriced_calls"] == 0 and spent.unpriced_models() == []


def test_score_day_refuses_records_built_before_they_carried_tool_calls(tmp_path: Path):
    config = Config(judging=Judging(judges=("no_error", "tool_use")), monitoring=Monitoring())
    connect = functools.partial(warehouse.connect, tmp_path / "wh.duckdb")
    stale = [make_record("a" * 32), make_record("b" * 32, tool_calls=None)]
    with pytest.raises(ValueError, match=r"1 eval record\(s\) of 2026-.* built before records carried their tool"):
        score_day(stale, config, Endpoint(), day=DAY, connect=connect)
    # Quiet on what current rows hold: no tool used (no path, no calls) and tools with their calls.
    fine = [make_record("c" * 32, tool_path=[], tool_calls=None), make_record("d" * 32, tool_path=None, tool_calls=[]),
            make_record("e" * 32)]
    assert len(score_day(fine, config, Endpoint(), day=DAY, connect=connect).score_rows) == 2 * len(fine)
