"""Contract: spans made by the real OpenTelemetry Python SDK (a TracerProvider and the real OTLP protobuf
encoder), written to the landing zone, are ingested with the right canonical fields."""

import datetime as dt
import gzip
from pathlib import Path

import orjson
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from eval_pipeline.lib import ingest, warehouse


def _agent_run(tracer, question: str) -> str:
    with tracer.start_as_current_span("invoke_agent shop-assistant") as root:
        root.set_attribute("gen_ai.operation.name", "invoke_agent")
        root.set_attribute("gen_ai.conversation.id", "conv-42")
        root.set_attribute("user.id", "user-7")
        root.set_attribute("gen_ai.input.messages", orjson.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": question}]}]).decode())
        with tracer.start_as_current_span("chat gpt-4.1-mini") as llm:
            llm.set_attribute("gen_ai.operation.name", "chat")
            llm.set_attribute("gen_ai.request.model", "gpt-4.1-mini")
            llm.set_attribute("gen_ai.usage.input_tokens", 120)
            llm.set_attribute("gen_ai.usage.output_tokens", 18)
            llm.set_attribute("gen_ai.response.finish_reasons", ["tool_calls"])
        with tracer.start_as_current_span("execute_tool lookup_order") as tool:
            tool.set_attribute("gen_ai.operation.name", "execute_tool")
            tool.set_attribute("gen_ai.tool.name", "lookup_order")
            tool.set_attribute("gen_ai.tool.call.arguments", '{"order": "A-1"}')
            tool.record_exception(TimeoutError("order service timed out"))
            tool.set_status(Status(StatusCode.ERROR, "order service timed out"))
        root.set_attribute("gen_ai.output.messages", orjson.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": "Sorry, try again later."}]}]).decode())
        root.set_status(Status(StatusCode.ERROR, "could not answer"))
        root.set_attribute("error.type", "ToolError")
        return format(root.get_span_context().trace_id, "032x")


def test_otel_sdk_spans_ingested_with_canonical_fields(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "shop-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test-agent", "1.0")
    trace_id = _agent_run(tracer, "Where is order A-1?")
    provider.shutdown()

    finished = exporter.get_finished_spans()
    body = encode_spans(finished).SerializeToString()
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "batch-1.pb").write_bytes(body)
    (landing / "batch-2.binpb.gz").write_bytes(gzip.compress(len(body).to_bytes(4, "big") + body))  # same spans again

    root_start_ns = min(s.start_time for s in finished)
    day = dt.datetime.fromtimestamp(root_start_ns / 1e9, dt.UTC).date()
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        stats = ingest.ingest_files(con, ingest.changed_files(con, ingest.landing_files(landing)), workers=1)
        result = ingest.build_day(con, day)
        row = con.sql("SELECT * FROM raw_traces").pl().to_dicts()[0]
        types = dict(con.execute("SELECT name, span_type FROM spans").fetchall())
    assert stats.quarantined == 0 and stats.spans == 6
    assert (result.traces, result.spans, result.duplicate_spans) == (1, 3, 3)
    assert row["trace_id"] == trace_id
    assert row["service_name"] == "shop-agent"
    assert row["request"] == "Where is order A-1?"
    assert row["response"] == "Sorry, try again later."
    assert row["status"] == "error" and row["error_type"] == "ToolError" and row["error_message"] == "could not answer"
    assert row["tool_path"] == ["lookup_order"]
    assert row["tool_calls"][0]["status"] == "error"
    assert row["models"] == ["gpt-4.1-mini"]
    assert (row["input_tokens"], row["output_tokens"]) == (120, 18)
    assert (row["session_id"], row["user_id"]) == ("conv-42", "user-7")
    assert types == {"invoke_agent shop-assistant": "agent", "chat gpt-4.1-mini": "llm",
                     "execute_tool lookup_order": "tool"}
