"""The release gate's comparison (eval_pipeline.lib.gate.compare) on simulated days of production traffic
(support.simulate): each day's Poisson draw becomes gate records (weight 1/pi, stratum) with the LLM judge's
production and candidate verdicts as the judges would return them, so coverage is measured through the code
path the gate runs, not the statistics core alone."""

from collections.abc import Iterable

import numpy as np

from eval_pipeline.lib.gate import compare
from eval_pipeline.lib.gate.inputs import GateInputs, GateRecord
from eval_pipeline.lib.judging.verdict import JUDGE_ABSTAINED, Verdict
from eval_pipeline_tests.support import simulate as sim

# A pairwise outcome as the two orders' answers (production shown first, then the candidate first).
_ORDERS = {"win": ("second", "first"), "loss": ("first", "second"), "tie": ("tie", "tie"), None: ("unknown",) * 2}


def _verdict(value: float | str | None, judge: str = "relevance") -> Verdict:
    if isinstance(value, str):
        word, reason = value, JUDGE_ABSTAINED if value == "unknown" else None
    else:
        word = "unknown" if value is None or np.isnan(value) else ("pass" if value == 1.0 else "fail")
        reason = JUDGE_ABSTAINED if word == "unknown" else None
    return Verdict(judge, word, "", reason, None, "v", None, None, None, None)  # type: ignore[arg-type]


def gate_sample(rng: np.random.Generator, day: sim.Day) -> tuple[list[GateRecord], list[float] | None, np.ndarray]:
    """One day's trace draw as gate records, their inclusion probabilities (as the gate finds them) and
    the drawn traces' indices."""
    s = sim.draw_traces(rng, day)
    records = [GateRecord(f"t{i}", "production", "q", weight=float(w), pi=float(p), stratum=str(day.stratum[i]))
               for i, w, p in zip(s.idx, s.weight, s.pi, strict=True)]
    inputs = GateInputs(None, None, "", production=records)  # type: ignore[arg-type]
    return records, inputs.inclusion_probabilities(), s.idx


def paired_case(margin: float = 0.02) -> sim.Case:
    """The gate's paired difference of the LLM judge against the day's true difference."""
    def case(rng: np.random.Generator, day: sim.Day) -> tuple[float, float, float] | None:
        records, pi, idx = gate_sample(rng, day)
        c = compare.compare_judge("relevance", [_verdict(x) for x in day.llm[idx]],
                                  [_verdict(x) for x in day.cand[idx]], records, margin=margin, pi=pi)
        return None if c.difference is None else (sim.true_difference(day.llm, day.cand), c.difference.low,
                                                  c.difference.high)
    return case


def pairwise_case(kind: str) -> sim.Case:
    """The gate's pairwise ``kind`` rate (from both orders' answers) against the day's true rate."""
    def case(rng: np.random.Generator, day: sim.Day) -> tuple[float, float, float] | None:
        records, pi, idx = gate_sample(rng, day)
        answers = [_ORDERS[o] for o in day.pairwise[idx]]
        p = compare.pairwise([_verdict(a) for a, _ in answers], [_verdict(b) for _, b in answers], records, pi)
        est = p.rates[kind]
        return None if est is None else (sim.true_outcome_rates(day.pairwise)[kind], est.low, est.high)
    return case


def gate_pass_share(seeds: Iterable[int], design: sim.DayDesign, margin: float = 0.02) -> float:
    """The share of days on which the gate's rule passes the LLM judge (trace draws)."""
    passed = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        day = sim.simulate_day(rng, design)
        records, pi, idx = gate_sample(rng, day)
        c = compare.compare_judge("relevance", [_verdict(x) for x in day.llm[idx]],
                                  [_verdict(x) for x in day.cand[idx]], records, margin=margin, pi=pi)
        passed.append(compare.decide([c], [], margin)[0])
    return float(np.mean(passed))
