"""The comparison a release gate decides on: per gating judge, the paired, weighted difference in pass rate
(candidate minus production) on the same production records, overall and per stratum; the curated suites'
own section with its must-pass records; the pairwise judge's win / tie / loss rates.

Paired difference (``stats.paired_difference``): each production record's weight is the traffic it stands
for, so the difference estimates the change on production traffic; its 95 % interval comes from the
paired linearisation (only records on which the two verdicts differ widen it). A pair whose production
verdict is unknown is left out. A candidate verdict that is unknown counts as a fail
(``gate.unknown_candidate: fail``, the default, so a candidate cannot gain by making the judge abstain)
or leaves the pair out (``exclude``), except when the judge did not apply to the record (``not_applicable``,
``no_context``, ``no_expectation``): that pair is left out like a production unknown. Unknown is never a pass.

A judge's verdict: ``pass`` when the interval's low end is above -margin; ``fail`` when the estimate
itself is a drop beyond the margin; ``inconclusive`` when the estimate is within the margin but the
interval reaches below it (too few records, or too many that differ, to show the drop is small);
``no_evidence`` when no pair is left. The gate passes only when every gating judge passes
(``stats.gate_passes``) and no curated must-pass record fails any gating judge that applies to it.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from eval_pipeline.lib import stats
from eval_pipeline.lib.gate.inputs import GateRecord
from eval_pipeline.lib.judging.verdict import NO_CONTEXT, NO_EXPECTATION, NOT_APPLICABLE, Verdict

# A judge that did not apply to the record: the pair says nothing about the candidate.
NOT_APPLIES = (NOT_APPLICABLE, NO_CONTEXT, NO_EXPECTATION)
# The one-sided 80 % quantile: the power the records-needed figure aims at for an equally good candidate.
_Z_POWER = 0.8416
_Z = 1.96


@dataclass(frozen=True)
class JudgeComparison:
    """One gating judge: the paired difference, the two pass rates on the pairs compared, counts, verdict."""

    judge: str
    difference: stats.Estimate | None
    production: stats.Estimate | None
    candidate: stats.Estimate | None
    verdict: str
    candidate_unknown: int  # pairs whose candidate verdict was unknown (a fail, or left out with 'exclude')
    not_applicable: int  # pairs left out because the judge did not apply to the record
    strata: list[tuple[str, stats.Estimate]] = field(default_factory=list)  # every stratum, worst first
    records_needed: int | None = None  # for an equally good candidate to pass 80 % of the time


@dataclass(frozen=True)
class CuratedJudge:
    """One gating judge on the curated records: the candidate's pass rate (unweighted) and counts."""

    judge: str
    rate: stats.Estimate | None
    passed: int
    failed: int
    unknown: int


@dataclass(frozen=True)
class MustPassFailure:
    record_id: str
    judge: str
    verdict: str
    reason: str | None
    rationale: str


@dataclass(frozen=True)
class Pairwise:
    """The pairwise judge asked in both orders: per record 'win' / 'tie' / 'loss' (candidate against
    production) or None, the weighted rates, and how often the two orders agreed."""

    outcomes: list[str | None]
    rates: dict[str, stats.Estimate | None]
    order_agreement: float | None


def _values(verdicts: Sequence[Verdict]) -> np.ndarray:
    return np.array([{"pass": 1.0, "fail": 0.0}.get(v.verdict, math.nan) for v in verdicts], dtype=float)


def compare_judge(judge: str, prod: Sequence[Verdict], cand: Sequence[Verdict], records: Sequence[GateRecord],
                  *, margin: float, unknown_candidate: str = "fail",
                  pi: Sequence[float] | None = None) -> JudgeComparison:
    """The paired comparison of one judge's production and candidate verdicts on ``records`` (same order)."""
    y_prod, y_cand = _values(prod), _values(cand)
    skipped = np.array([v.verdict == "unknown" and v.unknown_reason in NOT_APPLIES for v in cand], dtype=bool)
    y_prod[skipped] = math.nan
    cand_unknown = int((np.isnan(y_cand) & ~np.isnan(y_prod)).sum())
    weights = np.array([r.weight for r in records], dtype=float)
    p_incl = None if pi is None else np.asarray(pi, dtype=float)
    diff = stats.paired_difference(y_prod, y_cand, weights, pi=p_incl, unknown_candidate=unknown_candidate)
    filled = np.where(np.isnan(y_cand), 0.0, y_cand) if unknown_candidate == "fail" else y_cand
    keep = ~np.isnan(y_prod) & ~np.isnan(filled)
    rates = [stats.weighted_rate(y[keep], weights[keep], pi=None if p_incl is None else p_incl[keep])
             if keep.any() else None for y in (y_prod, filled)]
    strata = []
    labels = np.array([r.stratum or "" for r in records], dtype=object)
    for stratum in sorted(set(labels[keep])):
        inside = labels == stratum
        est = stats.paired_difference(y_prod[inside], y_cand[inside], weights[inside],
                                      pi=None if p_incl is None else p_incl[inside],
                                      unknown_candidate=unknown_candidate)
        if est is not None:
            strata.append((stratum, est))
    strata.sort(key=lambda s: (s[1].value, s[1].low))
    verdict = judge_verdict(diff, margin)
    discordant = float(weights[keep][filled[keep] != y_prod[keep]].sum() / weights[keep].sum()) if keep.any() else 0.0
    return JudgeComparison(judge, diff, rates[0], rates[1], verdict, cand_unknown, int(skipped.sum()),
                           strata, None if verdict == "pass" else records_needed(diff, margin, discordant))


def judge_verdict(diff: stats.Estimate | None, margin: float) -> str:
    if diff is None:
        return "no_evidence"
    if diff.low > -margin:
        return "pass"
    return "fail" if diff.value < -margin else "inconclusive"


def records_needed(diff: stats.Estimate | None, margin: float, discordant: float) -> int | None:
    """About how many records would let a candidate as good as production pass 80 % of the time, given the
    weighted share of records on which the two verdicts differed here (``discordant``) and this design's
    ratio of records to effective size. The paired interval's half-width is about
    t sqrt(discordant / n*) + t / n* (the second term from the interval's adjustment, which alone sets
    the width when no verdict differs); the gate needs (t + 0.84) sqrt(discordant / n*) + t / n* <= margin."""
    if diff is None or margin <= 0 or diff.n_eff <= 0:
        return None
    b = (_Z + _Z_POWER) * math.sqrt(max(discordant, 0.0))
    x = (-b + math.sqrt(b * b + 4 * _Z * margin)) / (2 * _Z)  # 1 / sqrt(n*) at the boundary
    return math.ceil(diff.n / diff.n_eff / (x * x) - 1e-6)  # not one more for a rounding error


def curated_results(judges: Sequence[str], verdicts: dict[str, Sequence[Verdict]],
                    records: Sequence[GateRecord]) -> tuple[list[CuratedJudge], list[MustPassFailure]]:
    """Per gating judge the candidate's pass rate on the curated records, and every must-pass record that
    a judge applying to it did not pass (a fail, or an unknown: unknown is never a pass)."""
    out, failures = [], []
    for judge in judges:
        vs = verdicts[judge]
        y = _values(vs)
        rate = stats.weighted_rate(y, np.ones(len(vs))) if len(vs) else None
        out.append(CuratedJudge(judge, rate, int((y == 1).sum()), int((y == 0).sum()), int(np.isnan(y).sum())))
        failures += [MustPassFailure(r.record_id, judge, v.verdict, v.unknown_reason, v.rationale)
                     for r, v in zip(records, vs, strict=True)
                     if r.must_pass and v.verdict != "pass" and v.unknown_reason not in NOT_APPLIES]
    return out, failures


# Per order, the candidate's score: order 1 shows production first, order 2 the candidate first.
_FIRST_ORDER = {"second": 1, "first": -1, "tie": 0}
_SECOND_ORDER = {"first": 1, "second": -1, "tie": 0}


def pairwise(first: Sequence[Verdict], second: Sequence[Verdict], records: Sequence[GateRecord],
             pi: Sequence[float] | None = None) -> Pairwise:
    """Win / tie / loss per record from the two orders: the candidate wins when its scores over both orders
    sum above 0 and loses below 0, so a judge that prefers a position gives a tie; unknown when either
    order gave no answer."""
    outcomes: list[str | None] = []
    agree = known = 0
    for a, b in zip(first, second, strict=True):
        s1, s2 = _FIRST_ORDER.get(a.verdict), _SECOND_ORDER.get(b.verdict)
        if s1 is None or s2 is None:
            outcomes.append(None)
            continue
        known += 1
        agree += s1 == s2
        total = s1 + s2
        outcomes.append("win" if total > 0 else "loss" if total < 0 else "tie")
    weights = [r.weight for r in records]
    return Pairwise(outcomes, stats.outcome_rates(outcomes, weights, pi=pi), agree / known if known else None)


def decide(comparisons: Sequence[JudgeComparison], must_pass: Sequence[MustPassFailure],
           margin: float) -> tuple[bool, list[str]]:
    """Whether the gate passes, and a sentence per reason it does not."""
    passed = stats.gate_passes({c.judge: c.difference for c in comparisons}, margin) and not must_pass
    # The worst first: drops beyond the margin (largest first), must-pass failures, then the undecided.
    drops = [c for c in comparisons if c.verdict == "fail" and c.difference is not None]
    reasons = [reason(c, margin) for c in sorted(drops, key=lambda c: c.difference.value)]  # type: ignore[union-attr]
    reasons += [f"the must-pass curated record {f.record_id} did not pass {f.judge} ({f.verdict}"
                f"{': ' + f.reason if f.reason else ''})" for f in must_pass]
    reasons += [reason(c, margin) for c in comparisons if c.verdict in ("inconclusive", "no_evidence")]
    return passed, reasons


def points(value: float) -> str:
    """A difference in pass rate as signed percentage points."""
    return f"{value * 100:+.1f}"


def reason(c: JudgeComparison, margin: float) -> str:
    """Why ``c`` does not pass, as a sentence."""
    d, m = c.difference, f"{margin * 100:.1f}"
    if d is None:
        return f"{c.judge}: no record has both a production and a candidate verdict to compare"
    where = f"(95 % interval {points(d.low)} to {points(d.high)} points, {d.n} records)"
    if c.verdict == "fail":
        return f"{c.judge} dropped {-d.value * 100:.1f} points {where}, beyond the margin of {m}"
    needed = f"; about {c.records_needed} records would decide it" if c.records_needed else ""
    return (f"{c.judge} is inconclusive: {points(d.value)} points {where}; the interval reaches below "
            f"-{m}, so these records cannot show the drop is within the margin{needed}")
