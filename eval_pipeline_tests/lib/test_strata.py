"""Contract of the strata merge rule (eval_pipeline.lib.strata.merge): a cell that holds enough keeps its own
stratum; sparse cells pool by dropping the model, then the latency tier, then the tool signature, never the
status; tool paths too small as a whole pool apart as rare paths; every cell lands in exactly one stratum;
threshold 0 keeps every cell."""

import pytest

from eval_pipeline.lib import strata


def _cell(sig: str, status: str = "ok", tier: str = "<=p50", model: str = "m1") -> tuple[str, ...]:
    return (sig, status, tier, model)


SIZES = {
    _cell("search"): 50.0,  # enough on its own
    _cell("search", model="m2"): 3.0,  # sparse: pools with search's other sparse models of that tier
    _cell("search", model="m3"): 8.0,
    _cell("search", tier=">p99"): 2.0,  # sparse, and alone in its tier: pools over tiers
    _cell("search", tier=">p99", model="m2"): 1.0,
    _cell("answer"): 6.0,  # answer holds 6 + 5 = 11 >= 10 as a path, but no cell of it reaches 10
    _cell("answer", tier=">p99"): 5.0,
    _cell("refund"): 2.0,  # refund: 3 in all, a rare path
    _cell("refund", model="m2"): 1.0,
    _cell("search", "error"): 4.0,  # errors never pool with ok traffic
    _cell("refund", "error"): 1.0,
}


def test_merge_keeps_large_cells_and_pools_sparse_ones_up_the_hierarchy():
    got = strata.merge(SIZES, enough=10)
    assert got[_cell("search")] == _cell("search")
    assert got[_cell("search", model="m2")] == got[_cell("search", model="m3")] == _cell("search", model="*")
    assert got[_cell("search", tier=">p99")] == ("*", "ok", "*", "*")  # 3 for search over tiers: still sparse
    assert got[_cell("answer")] == got[_cell("answer", tier=">p99")] == ("answer", "ok", "*", "*")
    assert got[_cell("refund")] == got[_cell("refund", model="m2")] == ("(rare paths)", "ok", "*", "*")
    assert got[_cell("search", "error")] == ("(rare paths)", "error", "*", "*")
    assert got[_cell("refund", "error")] == ("(rare paths)", "error", "*", "*")


def test_merge_never_crosses_status_and_places_every_cell_once():
    got = strata.merge(SIZES, enough=1000)
    assert set(got) == set(SIZES)
    assert all(stratum[1] == cell[1] for cell, stratum in got.items())
    assert {stratum for stratum in got.values()} == {("(rare paths)", "ok", "*", "*"), ("(rare paths)", "error", "*", "*")}


def test_merge_threshold_zero_keeps_every_cell():
    assert strata.merge(SIZES, enough=0) == {cell: cell for cell in SIZES}


def test_merge_of_one_dimension_pools_rare_categories():
    got = strata.merge({("search",): 40.0, ("answer",): 25.0, ("new",): 3.0, ("odd",): 1.0}, enough=20, order=(0,))
    assert got == {("search",): ("search",), ("answer",): ("answer",), ("new",): ("(rare paths)",),
                   ("odd",): ("(rare paths)",)}


@pytest.mark.parametrize("enough", [0.5, 5, 12, 60])
def test_merge_strata_reach_the_threshold_but_the_pooled_leftovers(enough: float):
    got = strata.merge(SIZES, enough)
    held: dict[tuple, float] = {}
    for cell, stratum in got.items():
        held[stratum] = held.get(stratum, 0.0) + SIZES[cell]
    assert all(size >= enough or s[0] in ("*", "(rare paths)") for s, size in held.items()), held
    assert strata.name(("search", "ok", "*", "*")) == "search | ok | * | *"
