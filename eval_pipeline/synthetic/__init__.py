"""Synthetic LLM-agent traffic, written as real OpenTelemetry trace files (see :mod:`.landing`)."""

from eval_pipeline.synthetic.landing import FAMILIES, FORMATS, Step, TracePlan, generate, generate_bulk, plan_traffic

__all__ = ["FAMILIES", "FORMATS", "Step", "TracePlan", "generate", "generate_bulk", "plan_traffic"]
