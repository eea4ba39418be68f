"""Contract of the judges' settings: lib builds them in one step from the parsed config and the endpoint,
carrying the judging section as it is (a new setting needs no mapping), with prices per million tokens
turned into prices per token, 0 meaning "not set", and the day in the seed of the call order."""

from eval_pipeline.lib.config import Config, CustomJudge, Judging, _build
from eval_pipeline.lib.judging import Endpoint, judge_names, judge_settings


def test_judge_settings_carry_the_judging_config_and_the_endpoint():
    config = _build(Config, {"judging": {"concurrency": 3, "timeout_s": 7, "backoff_s": 0.1, "max_tokens": 64,
                                         "latency_slo_ms": 1500}, "sampling": {"seed": "team-a"}}, "eval.yaml")
    endpoint = Endpoint(model="openai/judge", api_base="http://127.0.0.1:9/v1", api_key="sk-test")
    settings = judge_settings(config, endpoint, seed="2026-11-20")
    assert settings.judging is config.judging
    assert settings.endpoint == endpoint
    assert (settings.judging.concurrency, settings.judging.timeout_s, settings.judging.backoff_s) == (3, 7.0, 0.1)
    assert settings.seed == "team-a/2026-11-20"
    assert settings.parameters() == {"temperature": 0, "max_tokens": 64, "response_format": "JudgeAnswer-v2"}


def test_judge_settings_prices_and_budget_zero_means_not_set():
    unset = judge_settings(Config(), Endpoint())
    assert (unset.input_cost_per_token, unset.output_cost_per_token, unset.budget_usd) == (None, None, None)
    priced = judge_settings(Config(judging=Judging(input_price_per_mtok=2.0, budget_usd=1.5)), Endpoint())
    # One price set: the other one is a real zero, not "unknown".
    assert (priced.input_cost_per_token, priced.output_cost_per_token, priced.budget_usd) == (2e-6, 0.0, 1.5)


def test_judge_names_lists_configured_then_custom_judges_once():
    judging = Judging(judges=("no_error", "relevance", "no_error"),
                      custom=(CustomJudge("polite", "Be polite."), CustomJudge("relevance", "dup")))
    assert judge_names(judging) == ["no_error", "relevance", "polite"]
    assert judge_names(Judging()) == ["no_error", "non_empty_response", "relevance"]
