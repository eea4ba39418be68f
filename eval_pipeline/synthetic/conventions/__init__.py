"""The six semantic-convention families a trace plan can be written in, one module each."""

import random

from eval_pipeline.synthetic.content import APPS
from eval_pipeline.synthetic.conventions import (
    mlflow,
    openinference,
    otel_genai,
    otel_genai_legacy,
    traceloop,
    vercel_ai,
)
from eval_pipeline.synthetic.conventions.spans import Span
from eval_pipeline.synthetic.plans import TracePlan

_ENCODERS = {"otel_genai": otel_genai.encode, "otel_genai_legacy": otel_genai_legacy.encode,
             "openinference": openinference.encode, "mlflow": mlflow.encode, "traceloop": traceloop.encode,
             "vercel_ai": vercel_ai.encode}


def encode(p: TracePlan) -> list[Span]:
    """The trace's spans in its convention family, children first (the order exporters deliver them)."""
    spans = _ENCODERS[p.family](p, APPS[p.family], random.Random(p.variant))
    return sorted(spans, key=lambda s: (s.end, s.start))
