"""Synthetic LLM-agent traffic, written as real OpenTelemetry trace files.

:func:`generate` fills a landing directory with what an ingester meets in production: multi-turn
customer-support agent sessions written in six semantic-convention families (OTel GenAI current and
legacy, OpenInference, MLflow, Traceloop, Vercel AI SDK), in every OTLP file format SDKs and the
Collector write (OTLP/JSON, Collector JSON lines, gzip variants, protobuf, the Collector's
length-prefixed proto stream), with the delivery defects real pipelines have: spans delivered twice,
traces split across files, a trace crossing midnight and, optionally, malformed files.

:func:`plan_traffic` returns what :func:`generate` writes, trace by trace (question, answer, tool path,
tokens, session, user), so tests can compare what an ingester reads back with what was meant.

:func:`generate_bulk` writes many spans of the same shape quickly, for the ingest benchmark.

Everything is deterministic for a seed. Where each part lives:

- ``content``: the six agent apps (one per convention family), their tools, customers, the knowledge base
- ``scenarios``: what a turn says (question, tool calls and their results, answer) and how often
- ``plans``: :class:`TracePlan` and :class:`Step`, timing, tokens, errors, sessions, :func:`plan_traffic`
- ``conventions``: one module per convention family, turning a plan into spans
- ``writers``: the OTLP file formats and the JSON writer styles
- ``defects``: malformed files, traces split across files, spans delivered twice
- ``landing``: :func:`generate`, which ties them together and writes the day folders
- ``bulk``: :func:`generate_bulk`
"""

from eval_pipeline.synthetic.bulk import generate_bulk
from eval_pipeline.synthetic.content import FAMILIES
from eval_pipeline.synthetic.landing import generate
from eval_pipeline.synthetic.plans import Step, TracePlan, plan_traffic
from eval_pipeline.synthetic.writers import FORMATS

__all__ = ["FAMILIES", "FORMATS", "Step", "TracePlan", "generate", "generate_bulk", "plan_traffic"]
