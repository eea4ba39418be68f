"""Contract of the gate's comparison: the paired, weighted difference per judge (candidate minus production)
with its interval, overall and per stratum; unknown is never a pass (a production unknown leaves the pair
out, a candidate unknown is a fail unless the judge did not apply to the record); a judge passes only when
its interval stays above -margin, fails when the estimate is a drop beyond the margin, and is inconclusive
in between (with the records that would decide it); curated must-pass records fail the gate on a fail or an
unknown; the pairwise judge asked in both orders cancels a preference for a position."""

import pytest

from eval_pipeline.lib.gate import compare
from eval_pipeline.lib.gate.inputs import GateRecord
from eval_pipeline.lib.judging.verdict import JUDGE_ABSTAINED, MISSING_INPUT, NOT_APPLICABLE, TIMEOUT, Verdict


def v(verdict: str, reason: str | None = None, rationale: str = "") -> Verdict:
    return Verdict("relevance", verdict, rationale, reason, None, "relevance-v2", None, None, None, None)


def recs(n: int, weight: float = 1.0, strata: int = 1, **kw) -> list[GateRecord]:
    return [GateRecord(f"r{i}", "production", "q", weight=weight, stratum=f"s{i % strata}", **kw) for i in range(n)]


def test_identical_verdicts_on_enough_records_pass_and_too_few_are_inconclusive():
    many = compare.compare_judge("relevance", [v("pass")] * 150, [v("pass")] * 150, recs(150), margin=0.02)
    few = compare.compare_judge("relevance", [v("pass")] * 40, [v("pass")] * 40, recs(40), margin=0.02)
    assert (many.verdict, many.difference.value, many.records_needed) == ("pass", 0.0, None)
    assert many.difference.low > -0.02
    assert (few.verdict, few.difference.value) == ("inconclusive", 0.0)
    assert few.difference.low < -0.02 and few.records_needed > 40
    # As many records as it says decide it: then the same identical verdicts pass.
    assert few.records_needed == 98
    enough = compare.compare_judge("relevance", [v("pass")] * 98, [v("pass")] * 98, recs(98), margin=0.02)
    assert enough.verdict == "pass"
    sentence = compare.reason(few, 0.02)
    assert sentence.startswith("relevance is inconclusive: +0.0 points (95 % interval -")
    assert f"about {few.records_needed} records would decide it" in sentence


def test_records_needed_grows_with_the_share_of_records_whose_verdicts_differ():
    # 3 % of the verdicts differ: (1.96 + 0.84) sqrt(0.03 / n) + 1.96 / n <= 0.02 needs about 772 records
    # (times this design's records per effective record, 100 / 99).
    cand = [v("fail")] * 3 + [v("pass")] * 97
    differing = compare.compare_judge("relevance", [v("pass")] * 100, cand, recs(100), margin=0.02)
    assert differing.verdict == "fail" and differing.records_needed == pytest.approx(780, abs=3)


def test_a_drop_beyond_the_margin_fails_and_names_the_drop():
    prod = [v("pass")] * 100
    cand = [v("pass")] * 80 + [v("fail")] * 20
    c = compare.compare_judge("relevance", prod, cand, recs(100), margin=0.02)
    assert c.verdict == "fail" and c.difference.value == pytest.approx(-0.2)
    assert (c.production.value, c.candidate.value) == (1.0, pytest.approx(0.8))
    assert compare.reason(c, 0.02).startswith("relevance dropped 20.0 points (95 % interval -")


def test_weights_make_the_difference_estimate_production_traffic():
    # The candidate fails only the heavy records: a drop of 90 % of the traffic, not of 50 % of the records.
    records = [GateRecord(f"r{i}", "production", "q", weight=9.0 if i < 50 else 1.0) for i in range(100)]
    c = compare.compare_judge("relevance", [v("pass")] * 100, [v("fail")] * 50 + [v("pass")] * 50, records,
                              margin=0.02)
    assert c.difference.value == pytest.approx(-0.9)


def test_unknown_is_never_a_pass():
    prod = [v("unknown", TIMEOUT)] * 10 + [v("pass")] * 90
    cand = [v("pass")] * 10 + [v("unknown", JUDGE_ABSTAINED)] * 5 + [v("unknown", MISSING_INPUT)] * 5 + [v("pass")] * 80
    c = compare.compare_judge("relevance", prod, cand, recs(100), margin=0.02)
    # Production unknowns leave their pair out; the candidate's abstentions and missing answers are fails.
    assert (c.difference.n, c.difference.left_out, c.candidate_unknown) == (90, 10, 10)
    assert c.difference.value == pytest.approx(-10 / 90)
    excluded = compare.compare_judge("relevance", prod, cand, recs(100), margin=0.02, unknown_candidate="exclude")
    assert (excluded.difference.n, excluded.difference.value) == (80, 0.0)


def test_a_judge_that_did_not_apply_to_the_candidate_leaves_the_pair_out():
    cand = [v("unknown", NOT_APPLICABLE)] * 10 + [v("pass")] * 90
    c = compare.compare_judge("relevance", [v("pass")] * 100, cand, recs(100), margin=0.02)
    assert (c.difference.n, c.not_applicable, c.candidate_unknown, c.difference.value) == (90, 10, 0, 0.0)


def test_no_pair_with_a_production_verdict_is_no_evidence_and_fails_the_gate():
    c = compare.compare_judge("relevance", [v("unknown", TIMEOUT)] * 5, [v("pass")] * 5, recs(5), margin=0.02)
    assert (c.verdict, c.difference) == ("no_evidence", None)
    passed, reasons = compare.decide([c], [], 0.02)
    assert not passed and reasons == ["relevance: no record has both a production and a candidate verdict to compare"]


def test_strata_are_compared_on_their_own_records_worst_first():
    prod = [v("pass")] * 90
    cand = [v("fail") if i % 3 == 1 and i < 60 else v("pass") for i in range(90)]
    c = compare.compare_judge("relevance", prod, cand, recs(90, strata=3), margin=0.02)
    assert [s for s, _ in c.strata] == ["s1", "s0", "s2"]
    assert c.strata[0][1].value == pytest.approx(-20 / 30) and c.strata[0][1].n == 30


def test_decide_passes_only_when_every_judge_passes_and_no_must_pass_record_fails():
    ok = compare.compare_judge("relevance", [v("pass")] * 150, [v("pass")] * 150, recs(150), margin=0.02)
    worse = compare.compare_judge("safety", [v("pass")] * 150, [v("fail")] * 150, recs(150), margin=0.02)
    assert compare.decide([ok], [], 0.02) == (True, [])
    failure = compare.MustPassFailure("curated:smoke:1", "relevance", "unknown", JUDGE_ABSTAINED, "cannot tell")
    passed, reasons = compare.decide([ok], [failure], 0.02)
    assert not passed and reasons == ["the must-pass curated record curated:smoke:1 did not pass relevance "
                                      "(unknown: judge_abstained)"]
    passed, reasons = compare.decide([ok, worse], [], 0.02)
    assert not passed and reasons[0].startswith("safety dropped 100.0 points")


def test_curated_must_pass_fails_on_fail_or_unknown_but_not_where_the_judge_does_not_apply():
    records = [GateRecord(f"c{i}", "curated", "q", must_pass=i < 4) for i in range(5)]
    verdicts = {"relevance": [v("pass"), v("fail"), v("unknown", JUDGE_ABSTAINED), v("unknown", NOT_APPLICABLE),
                              v("fail")]}
    judges, failures = compare.curated_results(["relevance"], verdicts, records)
    assert [(f.record_id, f.verdict) for f in failures] == [("c1", "fail"), ("c2", "unknown")]
    (j,) = judges
    assert (j.passed, j.failed, j.unknown, j.rate.value) == (1, 2, 2, pytest.approx(1 / 3))


def test_pairwise_in_both_orders_cancels_a_position_preference():
    records = recs(4)
    first = [v("second"), v("first"), v("first"), v("unknown", JUDGE_ABSTAINED)]  # production shown first
    second = [v("first"), v("second"), v("first"), v("first")]  # candidate shown first
    p = compare.pairwise(first, second, records)
    # Record 2: a judge that always picks the first position gives a tie, not a win or a loss.
    assert p.outcomes == ["win", "loss", "tie", None]
    assert p.order_agreement == pytest.approx(2 / 3)
    assert p.rates["win"].value == pytest.approx(1 / 3) and p.rates["win"].left_out == 1
