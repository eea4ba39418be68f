"""eval_pipeline: production LLM-agent traces -> evaluation datasets and judge scores."""

import os

# litellm fetches its price map from the network when it is imported unless told otherwise; this
# project never needs that (it ships with the package), so every process that imports us is covered.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
