"""Contract of ``eval_pipeline.synthetic.plans`` and its scenarios: the plans are deterministic for a seed and
have what real agent traffic has — tool failures the agent recovers from, unrecovered errors, latency tails,
common tool paths and a long tail, several models — and personal data in prompts and tool results, as
``plan_traffic`` means them and as they read back.
"""

import re

from eval_pipeline.synthetic import plan_traffic
from eval_pipeline_tests.synthetic.readback import START

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"(\+\d{1,3}[ -]?)?\(?\d{2,4}\)?[ -.]?\d{3,4}[ -.]?\d{3,4}")


def test_plan_traffic_is_deterministic_for_a_seed() -> None:
    a = plan_traffic(START, 1, sessions_per_day=6, seed=3)
    b = plan_traffic(START, 1, sessions_per_day=6, seed=3)
    c = plan_traffic(START, 1, sessions_per_day=6, seed=4)
    assert a == b
    assert [p.trace_id for p in a] != [p.trace_id for p in c]


def test_generate_has_tool_failures_errors_and_latency_tails() -> None:
    plans = plan_traffic(START, 3, sessions_per_day=30, seed=11)
    recovered = [p for p in plans if not p.error_type and any(s.error_type for s in p.steps if s.kind == "tool")]
    assert recovered
    for p in recovered:
        failed = next(s for s in p.steps if s.kind == "tool" and s.error_type)
        assert p.tool_path.count(failed.tool) >= 2  # the agent called it again
    unrecovered = [p for p in plans if p.error_type]
    assert len(unrecovered) >= 3 and all(p.answer is None for p in unrecovered)
    durations = sorted(s.end_ns - s.start_ns for p in plans for s in p.steps if s.kind == "llm")
    assert durations[-1] > 4 * durations[len(durations) // 2]
    assert len({len(p.tool_path) for p in plans}) >= 4
    assert len({tuple(p.tool_path) for p in plans}) >= 12  # common paths and a long tail
    assert len({p.model for p in plans}) >= 6


def test_generate_puts_personal_data_in_prompts_and_tool_results(landed) -> None:
    _, _, _, _, rows = landed
    texts = [r["input_text"] or "" for spans in rows.values() for r in spans.values() if r["span_type"] == "agent"]
    results = [r["tool_result"] or "" for spans in rows.values() for r in spans.values() if r["span_type"] == "tool"]
    assert any(EMAIL.search(t) for t in texts)
    assert any(PHONE.search(t) and "+" in t for t in texts)
    assert any(EMAIL.search(t) and PHONE.search(t) for t in results)
    everything = " ".join(texts + results)
    assert re.search(r"\(\d{3}\) 555-01\d\d", everything) or re.search(r"\b0\d{2,3} \d{3,4} \d{3,4}\b", everything)
