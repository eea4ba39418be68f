"""Contract of ``eval_pipeline.synthetic.conventions``: the synthetic traffic is real OTLP that the project's own
readers (``readers.read_file`` + ``normalize.normalize_span``) turn back into exactly what ``plan_traffic`` meant —
question, answer, tool path, tokens, model, session, user, errors — for every convention family, each day.
"""

import collections

from eval_pipeline.lib.ingest import normalize
from eval_pipeline.synthetic import FAMILIES
from eval_pipeline_tests.synthetic.readback import DAY0_NS, DAYS, DAY_NS


def test_generate_uses_every_convention_family_each_day(landed) -> None:
    _, summary, plans, _, rows = landed
    for day in range(DAYS):
        lo = DAY0_NS + day * DAY_NS
        assert {p.family for p in plans.values() if lo <= p.start_ns < lo + DAY_NS} == set(FAMILIES)
    assert set(summary["conventions"]) == set(FAMILIES)
    seen = {c for spans in rows.values() for r in spans.values() for c in r["conventions"]}
    assert set(FAMILIES) <= seen


def test_generate_reads_back_as_planned(landed) -> None:
    _, summary, plans, _, rows = landed
    damaged = set(summary["damaged_traces"])
    checked = collections.Counter()
    for p in plans.values():
        if p.trace_id in damaged:
            continue
        spans = rows[p.trace_id]
        assert len(spans) == p.n_spans, p.family
        root = spans[p.root_span_id]
        assert root["parent_span_id"] is None
        assert p.question in root["input_text"], p.family
        assert root["output_text"] == p.answer or (p.answer is None and root["status"] == "error"), p.family
        assert root["session_id"] == p.session_id, p.family
        assert root["user_id"] == p.user_id, p.family
        assert (root["status"] == "error") == (p.error_type is not None), p.family
        assert root["error_type"] == p.error_type, p.family
        llm = [(s, spans[s.span_id]) for s in p.steps if s.kind == "llm"]
        assert all(r["span_type"] == "llm" for _, r in llm), p.family
        assert sum(r["input_tokens"] or 0 for _, r in llm) == p.input_tokens, p.family
        assert sum(r["output_tokens"] or 0 for _, r in llm) == p.output_tokens, p.family
        assert all(r["model"] == p.model for s, r in llm if not s.error_type), p.family
        assert all(p.question in r["input_text"] for _, r in llm), p.family
        tools = sorted((spans[s.span_id] for s in p.steps if s.kind == "tool"), key=lambda r: r["start_ns"])
        assert [r["span_type"] for r in tools] == ["tool"] * len(tools)
        assert sorted(r["tool_name"] for r in tools) == sorted(p.tool_path), p.family
        checked[p.family] += 1
    assert set(checked) == set(FAMILIES)
    assert sum(checked.values()) >= len(plans) - len(damaged)


def test_generate_known_trace_has_expected_canonical_values(landed) -> None:
    _, summary, plans, _, rows = landed
    damaged = set(summary["damaged_traces"])
    for family in ("otel_genai", "openinference", "mlflow", "vercel_ai"):
        p = next(p for p in plans.values() if p.family == family and p.trace_id not in damaged
                 and not p.error_type and len(p.tool_path) >= 1)
        spans = rows[p.trace_id]
        tool_rows = [spans[s.span_id] for s in p.steps if s.kind == "tool" and not s.error_type]
        assert tool_rows[0]["tool_name"] == next(s.tool for s in p.steps if s.kind == "tool" and not s.error_type)
        # arguments and result come through as JSON text
        step = next(s for s in p.steps if s.kind == "tool" and not s.error_type)
        row = spans[step.span_id]
        assert normalize._decode(row["tool_arguments"]) == step.arguments
        assert normalize._decode(row["tool_result"]) == step.result
        first_llm = spans[next(s.span_id for s in p.steps if s.kind == "llm")]
        assert first_llm["input_tokens"] > 500  # system prompt and tool schemas are counted
