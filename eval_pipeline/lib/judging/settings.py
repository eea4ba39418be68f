"""How judges run: the ``judging`` section of the parsed config, plus the endpoint the ``Judge`` resource
resolves (model, base URL, key) and the run's seed. The config section is carried as it is, so a new
judging setting is added to ``config.Judging`` and read where it is used, with nothing in between."""

from dataclasses import dataclass, field
from typing import Any

from eval_pipeline.lib.config import Config, Judging
from eval_pipeline.lib.judging.prompts import ANSWER_SCHEMA_VERSION


@dataclass(frozen=True)
class Endpoint:
    """Where LLM judges are served: a litellm model string (None: no model configured), an optional
    OpenAI-compatible base URL and an optional key."""

    model: str | None = None
    api_base: str | None = None
    api_key: str | None = None


@dataclass(frozen=True)
class JudgeSettings:
    """The endpoint, the ``judging`` config and the seed of the random order of calls (so a
    budget-limited run judges a reproducible random subset)."""

    endpoint: Endpoint = field(default_factory=Endpoint)
    judging: Judging = field(default_factory=Judging)
    seed: str = "eval-pipeline"

    @property
    def input_cost_per_token(self) -> float | None:
        """The configured price per input token, for a model missing from litellm's price map (None: not set)."""
        return self.judging.input_price_per_mtok / 1e6 if self._priced() else None

    @property
    def output_cost_per_token(self) -> float | None:
        return self.judging.output_price_per_mtok / 1e6 if self._priced() else None

    @property
    def budget_usd(self) -> float | None:
        """Most a run may spend on calls, in USD (None: no limit; the config writes that as 0)."""
        return self.judging.budget_usd or None

    def _priced(self) -> bool:
        return self.judging.input_price_per_mtok > 0 or self.judging.output_price_per_mtok > 0

    def parameters(self) -> dict[str, Any]:
        """The decoding parameters: part of every cache key and stored with every LLM score. Changing
        them (or the answer schema's version) makes every cached judgement stale."""
        return {"temperature": 0, "max_tokens": self.judging.max_tokens, "response_format": ANSWER_SCHEMA_VERSION}


def judge_settings(config: Config, endpoint: Endpoint, seed: str = "") -> JudgeSettings:
    """The judges' settings for one run: ``seed`` (the day) draws that run's random order of calls."""
    return JudgeSettings(endpoint=endpoint, judging=config.judging, seed=f"{config.sampling.seed}/{seed}")


def judge_names(judging: Judging) -> list[str]:
    """The judges a day is scored with: those listed in ``judging.judges`` and every custom judge, once each."""
    return list(dict.fromkeys([*judging.judges, *(c.name for c in judging.custom)]))
