"""Contract of the judging assets: `judge_scores` scores every eval record of the day with every
configured judge (built-in and custom from the YAML config) through litellm to a local server, stores
decoding parameters and input hash with each score, and re-materializing the day makes zero calls
(cached = true); a budget marks the rest budget_exhausted and shows the spend in metadata;
`judge_agreement` compares verdicts with human labels from the human_labels table, a labels file and
the traces' feedback, and its check warns when Cohen's kappa is below judging.min_kappa;
`every_record_judged` holds."""

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from eval_pipeline.defs.judging.assets import judge_agreement, judge_scores
from eval_pipeline.defs.judging.checks import every_record_judged, judge_kappa_above_threshold
from eval_pipeline.lib import warehouse
from eval_pipeline.resources import Judge, Settings, Warehouse
from eval_pipeline_tests.support.openai_server import ChatRequest, Reply, serve

DAY = dt.date(2026, 11, 20)
ASSETS = [judge_scores, judge_agreement, every_record_judged, judge_kappa_above_threshold]


def _policy(request: ChatRequest) -> Reply:
    verdict = "fail" if "refund" in request.user_text else "pass"
    return Reply(content=json.dumps({"verdict": verdict, "rationale": f"scripted {verdict}"}))


@pytest.fixture
def day_records(pipeline_env: dict[str, Path]) -> Path:
    """Six eval records of DAY with their masked traces, two of which carry feedback."""
    db = pipeline_env["warehouse"]
    with warehouse.connect(db) as con:
        for i in range(6):
            trace_id = f"{i:032x}"
            request = "I want a refund for order 12" if i % 2 else f"Where is order {i}?"
            con.execute(
                "INSERT INTO eval_dataset (trace_id, trace_date, request, response, tool_path, retrieved_context, "
                "status, latency_ms, weight, tool_calls) VALUES ($t, $d, $q, $a, ['lookup_order'], $ctx, 'ok', 900, "
                "1.0, [{'name': 'lookup_order', 'arguments': '{}', 'result': 'shipped', 'status': 'ok'}])",
                {"t": trace_id, "d": DAY, "q": request, "a": f"Answer {i}",
                 "ctx": ["Orders ship in 2 days."] if i < 3 else None})
            con.execute("INSERT INTO masked_traces (trace_id, trace_date) VALUES ($t, $d)", {"t": trace_id, "d": DAY})
        # Feedback carried by the traces (an evaluation event, a feedback attribute), as the masking step
        # extracts it into masked_traces.feedback (see test_privacy for the extraction from spans).
        for t, label in ((0, "thumbs_down"), (2, "fail")):
            con.execute("UPDATE masked_traces SET feedback = [{'judge': 'relevance', 'label': $l}] WHERE trace_id = $t",
                        {"t": f"{t:032x}", "l": label})
        con.execute("INSERT INTO human_labels (trace_id, judge, label) VALUES ($t, 'relevance', 'fail')",
                    {"t": f"{1:032x}"})
    return db


def _resources(db: Path, config: Path | None, base_url: str | None) -> dict:
    return {
        "warehouse": Warehouse(database=str(db)),
        "settings": Settings(config_path=str(config) if config else ""),
        "judge": Judge(model="openai/test-judge" if base_url else "", api_base=base_url or "", api_key="sk-test"),
    }


def _materialize(resources: dict, assets=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(assets or ASSETS, partition_key=DAY.isoformat(), resources=resources)


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    (mat,) = result.asset_materializations_for_node(asset)
    return {k: v.value for k, v in mat.metadata.items()}


def _checks(result: dg.ExecuteInProcessResult) -> dict:
    return {e.asset_check_evaluation_data.check_name: (e.asset_check_evaluation_data.passed,
                                                      e.asset_check_evaluation_data.severity)
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def test_judge_scores_scores_every_record_and_rerun_makes_no_calls(day_records: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "eval.yaml"
    config.write_text(
        "judging:\n"
        "  judges: [no_error, relevance, groundedness, no_pii_echo]\n"
        "  custom:\n"
        "    - name: mentions_order\n"
        "      guideline: The response mentions the order the user asked about.\n"
        "      tools: [lookup_order]\n")
    with serve(_policy) as server:
        first = _materialize(_resources(day_records, config, server.base_url))
        calls = server.request_count
        kept = _materialize(_resources(day_records, config, server.base_url))  # unchanged records: day kept
        # forced: the day is scored again, and every judgement comes from the cache
        monkeypatch.setenv("EVAL_FORCE_REBUILD", "1")
        second = _materialize(_resources(day_records, config, server.base_url))
        calls_again = server.request_count - calls

    assert first.success and second.success
    assert calls == 18  # 6 records x (relevance, groundedness, mentions_order)
    assert calls_again == 0
    meta = _metadata(first, "judge_scores")
    assert (meta["calls"], meta["cache_hits"], meta["records"], meta["dagster/row_count"]) == (18, 0, 6, 30)
    assert (_metadata(second, "judge_scores")["calls"], _metadata(second, "judge_scores")["cache_hits"]) == (0, 18)
    assert _metadata(kept, "judge_scores")["unchanged_since_run"] == first.run_id
    assert _checks(second)["every_record_judged"] == (True, dg.AssetCheckSeverity.ERROR)
    with duckdb.connect(str(day_records), read_only=True) as con:
        rows = con.execute("SELECT judge, verdict, cached, parameters, input_hash, model FROM judge_scores "
                           "WHERE judge IN ('relevance', 'groundedness', 'mentions_order')").fetchall()
        cached = con.execute("SELECT count(*) FROM judge_cache").fetchall()[0][0]
        counts = dict(con.execute("SELECT judge, count(*) FROM judge_scores GROUP BY judge").fetchall())
    assert counts == {"no_error": 6, "relevance": 6, "groundedness": 6, "no_pii_echo": 6, "mentions_order": 6}
    assert {(j, v) for j, v, *_ in rows} == {(j, v) for j in ("relevance", "groundedness", "mentions_order")
                                             for v in ("pass", "fail")}
    assert all(c for _, _, c, *_ in rows)  # the second run's rows are all from the cache
    assert all(json.loads(p)["temperature"] == 0 and len(h) == 64 and m == "openai/test-judge"
               for _, _, _, p, h, m in rows)
    assert cached == 18


def test_judge_scores_budget_marks_the_rest_and_reports_spend(day_records: Path, tmp_path: Path) -> None:
    config = tmp_path / "eval.yaml"
    # 42 input and 7 output tokens per scripted call at these prices cost 0.049 USD: two calls fit.
    config.write_text("judging:\n  judges: [relevance]\n  budget_usd: 0.1\n"
                      "  input_price_per_mtok: 1000\n  output_price_per_mtok: 1000\n")
    with serve(_policy) as server:
        result = _materialize(_resources(day_records, config, server.base_url), [judge_scores])
        calls = server.request_count
    meta = _metadata(result, "judge_scores")
    assert calls == meta["calls"] == 2
    assert meta["cost_usd"] == pytest.approx(0.098)
    assert (meta["budget_usd"], meta["budget_exhausted"]) == (0.1, 4)
    assert meta["unknown_reasons"] == {"budget_exhausted": 4}


def test_judge_agreement_reports_kappa_and_warns_below_threshold(day_records: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    # Human labels for relevance: the judge answers fail on refund requests (odd records), pass otherwise.
    labels.write_text("trace_id,judge,label\n" + "".join(
        f"{i:032x},relevance,{lab}\n" for i, lab in [(3, "fail"), (4, "pass"), (5, "pass")]))
    config = tmp_path / "eval.yaml"
    config.write_text(f"judging:\n  judges: [relevance]\n  labels_file: {labels}\n  min_kappa: 0.5\n")
    with serve(_policy) as server:
        result = _materialize(_resources(day_records, config, server.base_url))
    assert result.success
    with duckdb.connect(str(day_records), read_only=True) as con:
        (row,) = con.execute("SELECT judge, labelled, compared, judge_unknown, accuracy, cohen_kappa, confusion "
                             "FROM judge_agreement WHERE trace_date = $d", {"d": DAY}).fetchall()
    # Judge: 0 pass, 1 fail, 2 pass, 3 fail, 4 pass, 5 fail. Humans: 0 fail (trace attribute), 1 fail
    # (table), 2 fail (trace event), 3 fail, 4 pass, 5 pass (file).
    judge, labelled, compared, unknown, accuracy, kappa, confusion = row
    assert (judge, labelled, compared, unknown) == ("relevance", 6, 6, 0)
    assert accuracy == pytest.approx(3 / 6)
    assert json.loads(confusion) == {"pass": {"pass": 1, "fail": 1}, "fail": {"pass": 2, "fail": 2}}
    # p_o = 0.5; p_e = (2*3 + 4*3) / 36 = 0.5; kappa = 0
    assert kappa == pytest.approx(0.0)
    assert _checks(result)["judge_kappa_above_threshold"] == (False, dg.AssetCheckSeverity.WARN)
    assert _metadata(result, "judge_agreement")["kappa/relevance"] == pytest.approx(0.0)


def test_judge_scores_without_model_runs_code_judges_and_unknowns_are_not_compared(day_records: Path) -> None:
    result = _materialize(_resources(day_records, None, None))
    assert result.success
    assert _checks(result) == {"every_record_judged": (True, dg.AssetCheckSeverity.ERROR),
                               "judge_kappa_above_threshold": (True, dg.AssetCheckSeverity.WARN)}
    with duckdb.connect(str(day_records), read_only=True) as con:
        reasons = con.execute("SELECT DISTINCT judge, verdict, unknown_reason FROM judge_scores "
                              "WHERE judge = 'relevance'").fetchall()
    assert reasons == [("relevance", "unknown", "no_model_configured")]
    with duckdb.connect(str(day_records), read_only=True) as con:
        agreement_row = con.execute("SELECT labelled, compared, judge_unknown, cohen_kappa FROM judge_agreement "
                                    "WHERE judge = 'relevance'").fetchall()
    assert agreement_row == [(3, 0, 3, None)]  # three human labels, every verdict unknown
