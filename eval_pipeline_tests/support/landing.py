"""A landing zone and a warehouse for ingestion tests: a four-span agent trace (OTLP/JSON), writing it to a
file, ingesting what changed and rolling a day up, reading rows back."""

import datetime as dt
from pathlib import Path

import orjson

from eval_pipeline.lib import ingest, warehouse
from eval_pipeline_tests.support import otlp_builders as b

DAY = dt.date(2026, 11, 20)
T = dt.datetime(2026, 11, 20, 9, 0, 0)


def agent_trace(trace_id: str, start: dt.datetime, question: str = "Where is my parcel?") -> list[dict]:
    root, llm1, tool, llm2 = (b.new_span_id() for _ in range(4))
    msgs = orjson.dumps([{"role": "user", "parts": [{"type": "text", "content": question}]}]).decode()
    return [
        b.span(trace_id, root, "invoke_agent support", start, 3000, status=1, attributes={
            "gen_ai.operation.name": "invoke_agent", "gen_ai.input.messages": msgs,
            "gen_ai.output.messages": orjson.dumps([{"role": "assistant", "parts": [
                {"type": "text", "content": "It arrives Friday."}]}]).decode(),
            "gen_ai.conversation.id": "sess-1", "user.id": "user-1",
            "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 1000}),  # repeated usage: not summed
        b.span(trace_id, llm1, "chat gpt-4o", start + dt.timedelta(milliseconds=10), 500, parent=root,
               attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                           "gen_ai.usage.input_tokens": 30, "gen_ai.usage.output_tokens": 5}),
        b.span(trace_id, tool, "execute_tool track_parcel", start + dt.timedelta(milliseconds=600), 800,
               parent=root, status=2, message="carrier API timeout",
               attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "track_parcel",
                           "gen_ai.tool.call.arguments": '{"id": "P1"}'}),
        b.span(trace_id, llm2, "chat gpt-4o-mini", start + dt.timedelta(milliseconds=1500), 400, parent=root,
               attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                           "gen_ai.usage.input_tokens": 50, "gen_ai.usage.output_tokens": 9}),
    ]


def write(path: Path, spans: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(b.request(spans)))
    return path


def run_day(db: Path, landing: Path, day: dt.date = DAY) -> ingest.DayResult:
    with warehouse.connect(db) as con:
        ingest.ingest_files(con, ingest.changed_files(con, ingest.landing_files(landing)), workers=1)
        return ingest.build_day(con, day)


def rows(db: Path, sql: str, params: dict | None = None) -> list[dict]:
    with warehouse.connect(db) as con:
        return con.sql(sql, params=params or {}).pl().to_dicts()
