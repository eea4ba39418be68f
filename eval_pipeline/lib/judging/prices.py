"""What a judge call costs: litellm's price map for the models it knows, else the configured prices.

litellm keeps one price map per process. For a model missing from it, litellm searches the whole map for
a near match on every call, which costs more CPU than the rest of the call, so :func:`register_prices`
adds such a model with the configured prices (0 when none). Its entry is marked as ours, so every later
run in the process still knows litellm has no price of its own for the model, and prices it with the
configured prices (or None), never with litellm's made-up zero.
"""

import logging
from dataclasses import dataclass
from typing import Any

from eval_pipeline.lib.judging.settings import JudgeSettings

# The key marking price-map entries that register_prices added (litellm keeps extra keys of an entry).
_REGISTERED_HERE = "eval_pipeline_configured_price"


@dataclass(frozen=True)
class Prices:
    """How one run prices its calls."""

    litellm_knows_model: bool  # litellm prices every response itself
    input_per_token: float | None  # the configured prices, for a model litellm does not know
    output_per_token: float | None

    def cost(self, response: Any, input_tokens: int | None, output_tokens: int | None) -> float | None:
        """litellm's price for the call (it prices every response of a model it knows), else the
        configured per-token prices, else None."""
        if self.litellm_knows_model:
            hidden = getattr(response, "_hidden_params", None) or {}
            cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
            if isinstance(cost, int | float):
                return float(cost)
        if self.input_per_token is None or self.output_per_token is None or input_tokens is None \
                or output_tokens is None:
            return None
        return input_tokens * self.input_per_token + output_tokens * self.output_per_token


def register_prices(litellm: Any, settings: JudgeSettings) -> Prices:
    """Prepare litellm to price ``settings``' model quickly, for one run; running it again (this run or
    the next) gives the same map and the same answer. A budget needs a price: without one it is an error."""
    model = settings.endpoint.model or ""
    configured = (settings.input_cost_per_token, settings.output_cost_per_token)
    entry = litellm.model_cost.get(model)
    if not (isinstance(entry, dict) and entry.get(_REGISTERED_HERE)):
        try:
            litellm.get_model_info(model)
            return Prices(True, *configured)
        except Exception:  # litellm raises for models missing from its price map
            pass
    if settings.budget_usd is not None and settings.input_cost_per_token is None:
        msg = (f"A judging budget is set but litellm has no price for {model!r}: set "
               "judging.input_price_per_mtok and judging.output_price_per_mtok, or remove judging.budget_usd.")
        raise ValueError(msg)
    try:
        _, provider, _, _ = litellm.get_llm_provider(model, api_base=settings.endpoint.api_base or None)
    except Exception:
        return Prices(False, *configured)
    logger = logging.getLogger("LiteLLM")
    level = logger.level
    logger.setLevel(logging.ERROR)  # register_model warns that cache-token prices default to 0
    try:
        litellm.register_model({model: {"input_cost_per_token": configured[0] or 0.0,
                                        "output_cost_per_token": configured[1] or 0.0,
                                        "litellm_provider": provider, "mode": "chat", _REGISTERED_HERE: True}})
    finally:
        logger.setLevel(level)
    return Prices(False, *configured)
