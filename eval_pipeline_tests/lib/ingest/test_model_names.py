"""Contract: the trace rollup (sql/traces/raw_traces_insert.sql) names a trace's models by the model requested,
so one model never shows under two names: a dated response model (gpt-4.1-mini-2025-04-14) maps to the
requested name, also on spans that report only the response model (to the one requested name it starts
with that day, else an ISO date suffix is dropped); a name requested as such stays; the reported names are
kept in response_models; token usage stays keyed by the reported (priced) name."""

from pathlib import Path

from eval_pipeline_tests.support import otlp_builders as b
from eval_pipeline_tests.support.landing import T, rows, run_day, write


def _llm_trace(request_model: str | None, response_model: str | None) -> list[dict]:
    attributes = {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 2}
    if request_model:
        attributes["gen_ai.request.model"] = request_model
    if response_model:
        attributes["gen_ai.response.model"] = response_model
    tid = b.new_trace_id()
    return [b.span(tid, b.new_span_id(), "chat", T, 100, attributes=attributes)]


def test_rollup_names_models_by_the_request_and_keeps_the_response(tmp_path: Path) -> None:
    traces = {
        "both": _llm_trace("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"),
        "request_only": _llm_trace("gpt-4.1-mini", None),  # e.g. a failed call: no response model
        "response_only": _llm_trace(None, "gpt-4.1-mini-2025-04-14"),  # a convention without the request
        "pinned": _llm_trace("gpt-4o-2024-08-06", "gpt-4o-2024-08-06"),  # a dated name requested as such
        "unknown_elsewhere": _llm_trace(None, "o3-mini-2025-01-31"),  # nobody requested o3-mini that day
        "undated": _llm_trace(None, "claude-3-5-haiku-20241022"),  # not an ISO date: kept as reported
    }
    for name, spans in traces.items():
        write(tmp_path / "landing" / f"{name}.json", spans)
    run_day(tmp_path / "wh.duckdb", tmp_path / "landing")
    got = {r["trace_id"]: r for r in rows(tmp_path / "wh.duckdb", "SELECT * FROM raw_traces")}
    by_name = {name: got[spans[0]["traceId"]] for name, spans in traces.items()}
    assert {n: r["models"] for n, r in by_name.items()} == {
        "both": ["gpt-4.1-mini"], "request_only": ["gpt-4.1-mini"], "response_only": ["gpt-4.1-mini"],
        "pinned": ["gpt-4o-2024-08-06"], "unknown_elsewhere": ["o3-mini"], "undated": ["claude-3-5-haiku-20241022"]}
    assert by_name["both"]["response_models"] == ["gpt-4.1-mini-2025-04-14"]
    assert by_name["request_only"]["response_models"] == ["gpt-4.1-mini"]
    # the agent's cost is priced on the name the provider answered with
    assert [u["model"] for u in by_name["both"]["model_usage"]] == ["gpt-4.1-mini-2025-04-14"]
