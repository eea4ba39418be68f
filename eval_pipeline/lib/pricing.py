"""The agent's own LLM spend: token usage per model priced with litellm's price map, read from the
JSON file litellm ships (no litellm import, no network); and how a spend with unpriced calls is shown."""

import functools
import importlib.util
import json
from collections.abc import Iterable
from pathlib import Path


@functools.cache
def _prices() -> dict[str, tuple[float, float]]:
    # find_spec locates the installed package without importing it: importing litellm would reach for
    # the network for this very file.
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / "model_prices_and_context_window_backup.json"
    if not path.is_file():
        return {}
    table = json.loads(path.read_text(encoding="utf-8"))
    prices = {name: (float(p["input_cost_per_token"]), float(p["output_cost_per_token"]))
              for name, p in table.items()
              if isinstance(p, dict) and p.get("input_cost_per_token") is not None
              and p.get("output_cost_per_token") is not None}
    # Provider-prefixed entries ("databricks/databricks-claude-sonnet-4") also answer for the bare model
    # name traces carry, when every provider that lists it agrees on the price.
    by_suffix: dict[str, set[tuple[float, float]]] = {}
    for name, p in prices.items():
        if "/" in name:
            by_suffix.setdefault(name.rsplit("/", 1)[-1], set()).add(p)
    for suffix, candidates in by_suffix.items():
        if suffix not in prices and len(candidates) == 1:
            prices[suffix] = next(iter(candidates))
    return prices


def price(model: str) -> tuple[float, float] | None:
    """USD per input and per output token, or None for a model the price map does not know."""
    prices = _prices()
    for name in (model, model.rsplit("/", 1)[-1], model.lower(), model.rsplit("/", 1)[-1].lower()):
        if name in prices:
            return prices[name]
    return None


def agent_cost(usage: Iterable[tuple[str, int | None, int | None]]) -> tuple[float, list[str]]:
    """(cost in USD of the priced models, the models without a price) for (model, input, output) rows."""
    cost, unpriced = 0.0, set()
    for model, tokens_in, tokens_out in usage:
        p = price(model)
        if p is None:
            unpriced.add(model)
            continue
        cost += (tokens_in or 0) * p[0] + (tokens_out or 0) * p[1]
    return cost, sorted(unpriced)


def spend_label(usd: float | None, unpriced_calls: int | None = 0) -> str:
    """Spend as people read it: ``$0.0123``; ``unpriced`` (or ``$0.0123 + unpriced``) when some calls had
    no price, so an unknown spend never shows as $0.0000."""
    if unpriced_calls:
        return f"${usd:.4f} + unpriced" if usd else "unpriced"
    return f"${usd or 0.0:.4f}"
