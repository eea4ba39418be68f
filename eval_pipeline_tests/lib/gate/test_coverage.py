"""Contract, measured over many simulated days of production traffic (support.simulate, through the code
path the gate runs: support.gate_simulate): the gate's paired 95 % interval holds the day's true
candidate-minus-production difference on 93-97 % of days, and so do the pairwise judge's win / tie / loss
intervals built from its two orders; the gate passes a candidate whose answers are production's and
fails one ten points worse."""

import pytest

from eval_pipeline_tests.support import gate_simulate as gs
from eval_pipeline_tests.support import simulate as sim

SEEDS = range(1000)
BAND = (0.93, 0.97)


@pytest.mark.slow
@pytest.mark.parametrize("shift", [0.0, -0.03])
def test_gate_paired_interval_covers_the_true_difference(shift):
    result = sim.coverage(SEEDS, sim.DayDesign(candidate_shift=shift), gs.paired_case())
    assert BAND[0] <= result.covered <= BAND[1], result


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["win", "tie", "loss"])
def test_gate_pairwise_intervals_cover_the_true_rates(kind):
    result = sim.coverage(SEEDS, sim.DayDesign(), gs.pairwise_case(kind))
    assert BAND[0] <= result.covered <= BAND[1], result


@pytest.mark.slow
def test_gate_passes_identical_answers_and_fails_a_clearly_worse_candidate():
    assert gs.gate_pass_share(range(300), sim.DayDesign(identical_candidate=True)) >= 0.95
    assert gs.gate_pass_share(range(300), sim.DayDesign(candidate_shift=-0.10, candidate_unknown_rate=0.0)) <= 0.05
