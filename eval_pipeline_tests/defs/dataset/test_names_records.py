"""Contract: the name tier covers every text of an eval record a judge, the gate, an export or a report reads,
not only request, response and documents: the trace's tool calls (arguments and results, JSON read value by
value and kept valid JSON) and its error travel on the eval record, are name-masked with it (a name found in
the request gets the same pseudonym in the tool call), and the judges, the gate's records and the report's
error examples read them from there, so a name in a tool call never reaches the judge on the wire. Tool
names, JSON keys, ids, numbers and dates in tool calls are left as they were."""

import datetime as dt
import json
import re
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from eval_pipeline.defs.dataset.assets import dev_eval_dataset, eval_dataset
from eval_pipeline.defs.judging.assets import judge_scores
from eval_pipeline.lib import dashboards, warehouse
from eval_pipeline.resources import Judge, Settings, Warehouse
from eval_pipeline_tests.support.openai_server import ChatRequest, Reply, serve

DAY = dt.date(2026, 11, 20)
# Planted: a name only in the tool call and the error (the model must find it there), and the request's name
# repeated inside compact JSON (where spaCy reading the whole document finds nothing).
ARGUMENTS = '{"customer":"Jonathan Miller","requester":"Margaret Thornbury","order_id":"A-1234","amount":12.5}'
RESULT = '{"status": "found", "owner": "Jonathan Miller", "orders": [7, 9]}'
ERROR = "lookup failed: no open order for Jonathan Miller"
# Not names: ids, numbers, dates, a currency, a tool name, keys; JSON and plain text.
CLEAN_ARGUMENTS = ('{"order_id":"A-1234","trace":"4bf92f3577b34da6a3ce929d0e0e4736","amount":12.5,"currency":"EUR",'
                   '"created":"2026-11-20T10:00:00Z","query":"status of order A-1234","items":[3,4],"express":true}')
CLEAN_RESULT = '{"status": "shipped", "eta_days": 2, "carrier_ref": "ZX-99-1002"}'
CLEAN_TEXT = "order_id=A-1234 limit=20"
TOKEN = re.compile(r"<PERSON:[0-9a-f]{10}>")


def _seed(db: Path) -> None:
    rows = []
    for i in range(12):
        planted = i % 2 == 0
        rows.append({
            "trace_id": f"{i:032x}", "trace_date": DAY, "latency_ms": 100.0 + i, "models": ["m"],
            "status": "error" if planted else "ok", "error_type": "ConnectionError" if planted else None,
            "error_message": ERROR if planted else None,
            "request": f"Hi, I am Margaret Thornbury, where is my order {i}?", "response": f"Order {i} is late.",
            "retrieved_context": [], "tool_path": ["lookup_customer"] if planted else ["lookup_order"],
            "tool_calls": [{"name": "lookup_customer", "arguments": ARGUMENTS, "result": RESULT, "status": "error"}]
            if planted else [{"name": "lookup_order", "arguments": CLEAN_ARGUMENTS, "result": CLEAN_RESULT,
                              "status": "ok"},
                             {"name": "list_orders", "arguments": CLEAN_TEXT, "result": None, "status": "ok"}],
            "session_id": f"s{i}", "user_id": f"u{i}", "service_name": "support"})
    with warehouse.connect(db) as con:
        con.register("rows", pa.Table.from_pylist(rows))
        con.execute("INSERT INTO masked_traces BY NAME SELECT * FROM rows")
        con.unregister("rows")


def _judge(request: ChatRequest) -> Reply:
    return Reply(content=json.dumps({"rationale": "scripted", "verdict": "pass"}))


@pytest.fixture
def built_day(pipeline_env: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The day's eval_dataset and dev_eval_dataset built from the seeded masked_traces, with the name tier on."""
    db = pipeline_env["warehouse"]
    _seed(db)
    config = tmp_path / "eval.yaml"
    config.write_text("judging:\n  judges: [tool_use, groundedness]\ndev_eval:\n  window_days: 1\n")
    monkeypatch.setenv("EVAL_CONFIG", str(config))
    result = dg.materialize([eval_dataset, dev_eval_dataset], partition_key=DAY.isoformat(),
                            resources={"warehouse": Warehouse(), "settings": Settings()})
    (mat,) = result.asset_materializations_for_node("eval_dataset")
    assert mat.metadata["name_tier"].value.startswith("presidio:")
    return db


def _calls(db: Path) -> dict[str, list[dict]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(con.execute("SELECT trace_id, tool_calls FROM eval_dataset").fetchall())


def test_names_in_tool_calls_and_errors_are_masked_on_the_record_and_never_reach_the_judge(built_day: Path) -> None:
    with duckdb.connect(str(built_day), read_only=True) as con:
        rows = con.execute("SELECT request, tool_calls, error_message FROM eval_dataset WHERE status = 'error'"
                           ).fetchall()
        gate_rows = con.sql(warehouse.load_sql("gate/gate_records"), params={"end": DAY}).fetchall()
    assert len(rows) == 6 and gate_rows
    for request, (call,), error in rows:
        args, result = json.loads(call["arguments"]), json.loads(call["result"])  # still valid JSON
        assert TOKEN.fullmatch(args["customer"]) and TOKEN.fullmatch(result["owner"])
        assert args["customer"] == result["owner"] and args["customer"] in error  # one name, one pseudonym
        assert args["requester"] in request  # the request's name: the same pseudonym in the tool call
        assert (args["order_id"], args["amount"], result["orders"], call["name"]) == ("A-1234", 12.5, [7, 9],
                                                                                      "lookup_customer")
        assert error.startswith("lookup failed: no open order for <PERSON:")
    assert "Miller" not in str(gate_rows) and "Thornbury" not in str(gate_rows)  # the gate's records
    with warehouse.connect(built_day) as con:
        examples = dashboards.query_rows(con, "dashboards/report_examples_error_traces", {"day": DAY, "limit": 10})
    assert examples and all(r["error"].startswith("ConnectionError: lookup failed: no open order for <PERSON:")
                            for r in examples)  # the error type, an identifier, is left as it was

    with serve(_judge) as server:
        dg.materialize([judge_scores], partition_key=DAY.isoformat(), resources={
            "warehouse": Warehouse(), "settings": Settings(),
            "judge": Judge(model="openai/test-judge", api_base=server.base_url, api_key="sk-test")})
        wire = [json.dumps(r.body, ensure_ascii=False) for r in server.requests]
    assert len(wire) == 24  # 12 records x (tool_use, groundedness: every record has a tool result or call)
    assert any("order_id" in w and "<PERSON:" in w for w in wire)  # the tool calls did go to the judge
    assert not any(name in w for w in wire for name in ("Jonathan", "Miller", "Thornbury"))


def test_tool_names_keys_ids_and_numbers_in_tool_calls_are_left_intact(built_day: Path) -> None:
    clean = [calls for calls in _calls(built_day).values() if calls[0]["name"] == "lookup_order"]
    assert len(clean) == 6
    for calls in clean:
        assert calls == [{"name": "lookup_order", "arguments": CLEAN_ARGUMENTS, "result": CLEAN_RESULT,
                          "status": "ok"},
                         {"name": "list_orders", "arguments": CLEAN_TEXT, "result": None, "status": "ok"}]
    with duckdb.connect(str(built_day), read_only=True) as con:
        dev = con.execute("SELECT tool_calls FROM dev_eval_dataset WHERE tool_calls[1].name = 'lookup_order'"
                          ).fetchall()
    assert dev and all(c == clean[0] for (c,) in dev)  # the dev-eval dataset copies the record's tool calls
