"""Contract of the abstaining judges: every LLM judge (built-in and guideline) is asked for its rationale
before its verdict and may answer unknown when the interaction does not hold enough to decide; such an
answer is stored as unknown / judge_abstained with its rationale, cached like a verdict (a re-run asks
nothing), and left out of the weighted pass rates, never counted as a pass."""

import datetime as dt
import functools
from pathlib import Path

import pytest

from eval_pipeline.lib import estimates, warehouse
from eval_pipeline.lib.config import Config, CustomJudge, Judging
from eval_pipeline.lib.judging import LLM_JUDGES, Endpoint, guideline_judge, judge_records, parse_answer, score_day
from eval_pipeline.lib.judging.prompts import RESPONSE_FORMAT
from eval_pipeline.lib.judging.verdict import JUDGE_ABSTAINED, NO_ANSWER
from eval_pipeline.lib.warehouse import insert_rows
from eval_pipeline_tests.support.judging import ABSTAIN, MODEL, by_marker, make_record, server_settings
from eval_pipeline_tests.support.openai_server import serve

DAY = dt.date(2026, 11, 20)
GUIDELINE = CustomJudge("polite", "The response is polite.")
EVERY_LLM_JUDGE = [*sorted(LLM_JUDGES), GUIDELINE.name]


def test_answer_schema_puts_the_rationale_first_and_allows_unknown():
    schema = RESPONSE_FORMAT["json_schema"]["schema"]
    assert list(schema["properties"]) == ["rationale", "verdict"]
    assert schema["properties"]["verdict"]["enum"] == ["pass", "fail", "unknown"]
    assert parse_answer(ABSTAIN).verdict == "unknown"
    assert parse_answer('{"rationale": "x", "verdict": "maybe"}') is None  # defect: not a verdict


@pytest.mark.parametrize("name", EVERY_LLM_JUDGE)
def test_every_llm_judge_prompt_asks_for_the_rationale_first_and_offers_unknown(name):
    spec = LLM_JUDGES.get(name) or guideline_judge(GUIDELINE)
    assert spec.prompt_version.endswith("-v2") or spec.prompt_version.startswith("guideline-v2+")
    answer_format = spec.prompt.rsplit("Answer with only a JSON object", 1)[1]
    assert answer_format.index('"rationale"') < answer_format.index('"verdict"')
    assert "- unknown: the interaction does not hold enough to decide" in spec.prompt


@pytest.mark.parametrize("name", EVERY_LLM_JUDGE)
def test_every_llm_judge_stores_an_abstention_with_its_reason_and_rationale(name):
    record = make_record("a", "[[abstain]] Where is my parcel?", expected_response="It ships Friday.",
                         retrieved_context=["Parcels ship on Fridays."])
    with serve(by_marker) as server:
        run = judge_records([record], [name], server_settings(server, custom=(GUIDELINE,)))
        assert server.request_count == 1
    (v,) = run.verdicts
    assert (v.verdict, v.unknown_reason, v.rationale) == ("unknown", JUDGE_ABSTAINED,
                                                         "The response is cut off before it answers.")
    assert [key for key, _ in run.new_judgements] and JUDGE_ABSTAINED in NO_ANSWER


def test_abstention_is_cached_stored_and_left_out_of_the_pass_rate(tmp_path: Path):
    db = tmp_path / "wh.duckdb"
    records = [make_record("a"), make_record("b", "[[fail]] Hi"), make_record("c", "[[abstain]] Hi"),
               make_record("d", "[[abstain]] Hello")]
    with warehouse.connect(db) as con:
        for r in records:
            con.execute("INSERT INTO eval_dataset (trace_id, trace_date, request, response, status, weight) "
                        "VALUES ($t, $d, $q, $a, 'ok', 1.0)", {"t": r["trace_id"], "d": DAY, "q": r["request"],
                                                                "a": r["response"]})
    config = Config(judging=Judging(judges=("relevance",)))
    connect = functools.partial(warehouse.connect, db)
    with serve(by_marker) as server:
        endpoint = Endpoint(MODEL, server.base_url, "sk-test")
        first = score_day(records, config, endpoint, day=DAY, connect=connect)
        with warehouse.connect(db) as con:
            insert_rows(con, "judging/judge_scores_insert", "score_rows", first.score_rows)
            insert_rows(con, "judging/judge_cache_insert", "new_judgements", first.cache_rows)
        again = score_day(records, config, endpoint, day=DAY, connect=connect)
        sent = server.request_count
    assert (sent, again.run.calls, again.run.cache_hits) == (4, 0, 4)
    assert [(v.verdict, v.unknown_reason, v.cached) for v in again.run.verdicts][2:] == [
        ("unknown", JUDGE_ABSTAINED, True)] * 2
    with warehouse.connect(db) as con:
        stored = con.execute("SELECT trace_id, verdict, unknown_reason FROM judge_scores ORDER BY 1").fetchall()
        [judge], _ = estimates.day_figures(con, DAY)
    estimate = tuple(judge[k] for k in ("judged", "passed", "failed", "unknown", "weighted_pass_rate"))
    assert stored == [("a", "pass", None), ("b", "fail", None), ("c", "unknown", JUDGE_ABSTAINED),
                      ("d", "unknown", JUDGE_ABSTAINED)]
    assert estimate == (4, 1, 1, 2, 0.5)  # the two abstentions count in neither numerator nor denominator
