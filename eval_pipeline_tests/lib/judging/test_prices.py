"""Contract of judge call costs: a model in litellm's price map is priced by litellm, a model missing from
it by the configured prices (or not at all: cost None, never a made-up zero), run after run in the same
process; a budget needs a price."""

import pytest

from eval_pipeline.lib.judging import judge_records
from eval_pipeline.lib.judging.prices import Prices, register_prices
from eval_pipeline_tests.support.judging import by_marker, make_record, run_judge, server_settings
from eval_pipeline_tests.support.openai_server import serve


def test_run_llm_judge_prices_unmapped_model_from_configured_price():
    with serve(by_marker) as server:
        (verdict,) = run_judge([make_record("a")], server, input_price_per_mtok=1.0, output_price_per_mtok=4.0)
    assert verdict.cost_usd == pytest.approx(42 * 1e-6 + 7 * 4e-6)


def test_run_llm_judge_prices_mapped_model_from_litellm_price_map():
    import litellm

    info = litellm.get_model_info("openai/gpt-4.1-mini")
    with serve(by_marker) as server:
        # The configured price is only for models litellm does not know.
        (verdict,) = run_judge([make_record("a")], server, model="openai/gpt-4.1-mini", input_price_per_mtok=1e6,
                             output_price_per_mtok=1e6)
    expected = 42 * info["input_cost_per_token"] + 7 * info["output_cost_per_token"]
    assert verdict.cost_usd == pytest.approx(expected)
    assert verdict.cost_usd < 0.01


def test_budget_needs_a_price():
    with serve(by_marker) as server, pytest.raises(ValueError, match="litellm has no price for 'openai/test-judge'"):
        judge_records([make_record("a")], ["relevance"], server_settings(server, budget_usd=1.0))


def test_register_prices_is_idempotent_and_keeps_telling_litellm_prices_from_configured_ones():
    import litellm

    with serve(by_marker) as server:
        unpriced = server_settings(server, model="openai/never-in-the-price-map")
        first, again = register_prices(litellm, unpriced), register_prices(litellm, unpriced)
        # Registered for speed with zero prices, the model is still one litellm cannot price.
        assert first == again == Prices(litellm_knows_model=False, input_per_token=None, output_per_token=None)
        assert litellm.get_model_info("openai/never-in-the-price-map")["input_cost_per_token"] == 0.0
        costs = [v.cost_usd for trace in ("a", "b")
                 for v in run_judge([make_record(trace)], server, model="openai/never-in-the-price-map")]
        assert costs == [None, None]  # run after run, never litellm's made-up zero
        # A later run with prices configured prices the same model with them.
        priced = server_settings(server, model="openai/never-in-the-price-map", input_price_per_mtok=2.0,
                                 output_price_per_mtok=2.0)
        assert register_prices(litellm, priced) == Prices(False, 2e-6, 2e-6)
        assert litellm.get_model_info("openai/never-in-the-price-map")["input_cost_per_token"] == 2e-6
        mapped = server_settings(server, model="openai/gpt-4.1-mini")
        before = dict(litellm.model_cost["gpt-4.1-mini"])
        assert register_prices(litellm, mapped).litellm_knows_model
        assert litellm.model_cost["gpt-4.1-mini"] == before  # a model litellm knows is left alone
