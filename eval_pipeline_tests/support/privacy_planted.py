"""A day of sample traffic with unique personal data and secrets planted in every text a trace carries, traces
the row policy must drop, and the ways to look for any of it downstream of masking (the privacy tests)."""

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import duckdb

from eval_pipeline.definitions import defs
from eval_pipeline import synthetic
from eval_pipeline_tests.support import otlp_builders as ob

DAY = dt.date(2026, 11, 20)
RAW_TABLES = {"raw_traces", "spans", "quarantine", "landing_files"}

# Every value is unique to these tests, so finding it anywhere means it leaked.
PLANTED = {
    "EMAIL": "zq-planted-7f1@example.org",
    "PHONE": "+44 20 7946 0777",
    "CARD": "4539 1488 0343 6467",
    "IBAN": "DE89 3704 0044 0532 0130 00",
    "SSN": "219-09-9999",
    "IP": "203.0.113.77",
    "SECRET": "sk-proj-PLANTEDabcdefghijklmnopqrstuv012345",
    "ADDRESS": "742 Evergreen Terrace",
    "DOB": "14 February 1987",
    "URL": "https://zq-planted-site.example.net/u/margaret-t",
}
# The same types written as other people write them: a national phone, a 15-digit JCB card outside the
# usual issuer prefixes, an IBAN in lower case.
PLANTED_FORMS = {"PHONE": "07700 900461", "CARD": "2131 962741 91658", "IBAN": "gb82 west 1234 5698 7654 32"}
# Names, places and organisations: no pattern finds them; the name tier masks them in eval records.
NAMES = {"PERSON": "Margaret Thornbury", "LOCATION": "Kalamazoo", "ORGANIZATION": "Initech Corporation"}
# A name only in the tool call's arguments (JSON) and the error message, never in the request or response.
TOOL_NAME = "Reginald Ashcombe"
NAME_NEEDLES = ["Thornbury", "Kalamazoo", "Initech", "Ashcombe"]
USER, SESSION = "user-planted-42", "sess-planted-42"
OPT_OUT_TEXT = "optout-needle-9q8 call +44 20 7946 0555"
SERVICE_TEXT = "svcdrop-needle-3k2"
# What must never be found downstream: the values, and pieces of them that survive reformatting.
NEEDLES = [*PLANTED.values(), *PLANTED_FORMS.values(), "zq-planted", "PLANTEDabc", USER, SESSION, "7946 0777",
           "0343 6467", "0532 0130", "219-09", "113.77", "900461", "962741", "5698 7654",
           "Evergreen", "February 1987", "optout-needle", "7946 0555", SERVICE_TEXT]


def _planted_request() -> dict:
    t0 = dt.datetime.combine(DAY, dt.time(12, 0))
    tid, root, tool, retr = ob.new_trace_id(), ob.new_span_id(), ob.new_span_id(), ob.new_span_id()
    p, f, n = PLANTED, PLANTED_FORMS, NAMES
    spans = [
        ob.span(tid, root, "agent", t0, 900, status=2,
                message=f"crm refused key {p['SECRET']} from {p['IP']} for customer {TOOL_NAME}",
                attributes={"openinference.span.kind": "AGENT", "session.id": SESSION, "user.id": USER,
                            "feedback.relevance": "pass",
                            "input.value": f"I'm {p['EMAIL']}, born {p['DOB']}, call {p['PHONE']} or "
                                           f"{f['PHONE']}. My name is {n['PERSON']} and I moved to "
                                           f"{n['LOCATION']} last year; my page is {p['URL']}",
                            "output.value": f"Refunded card {p['CARD']} and {f['CARD']} to IBAN {p['IBAN']} "
                                            f"({f['IBAN']}). {n['PERSON']}, your case with "
                                            f"{n['ORGANIZATION']} is closed."}),
        ob.span(tid, tool, "crm", t0 + dt.timedelta(milliseconds=100), 200, parent=root,
                attributes={"openinference.span.kind": "TOOL", "tool.name": "lookup_customer",
                            "input.value": json.dumps({"ssn": p["SSN"], "email": p["EMAIL"], "customer": TOOL_NAME}),
                            "output.value": json.dumps({"address": f"{p['ADDRESS']}, Springfield",
                                                        "password": "Plant3d-Pa55"})}),
        ob.span(tid, retr, "retrieve", t0 + dt.timedelta(milliseconds=400), 100, parent=root,
                attributes={"openinference.span.kind": "RETRIEVER",
                            "retrieval.documents.0.document.content":
                                f"Customer note: phone {p['PHONE']}; {n['PERSON']} lives in {n['LOCATION']}"}),
    ]
    return ob.request(spans, service="support-agent")


def _policy_requests() -> list[dict]:
    t0 = dt.datetime.combine(DAY, dt.time(13, 0))
    opted, other = ob.new_trace_id(), ob.new_trace_id()
    return [
        ob.request([ob.span(opted, ob.new_span_id(), "agent", t0, 100, attributes={
            "openinference.span.kind": "AGENT", "input.value": OPT_OUT_TEXT, "output.value": "ok",
            "eval.opt_out": True})], service="support-agent"),
        ob.request([ob.span(other, ob.new_span_id(), "agent", t0, 100, attributes={
            "openinference.span.kind": "AGENT", "input.value": SERVICE_TEXT, "output.value": "ok"})],
            service="internal-admin"),
    ]


def write_planted_day(landing: Path, config: Path) -> None:
    """Sample traffic for DAY, the planted trace and the two traces the policy drops in ``landing``; a config
    that drops the ``internal-admin`` service at ``config``."""
    synthetic.generate(landing, DAY, 1, sessions_per_day=6, seed=5)
    folder = landing / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "otlp-20261120T120000Z-90001.json").write_bytes(ob.dumps(_planted_request()))
    policy = b"\n".join(ob.dumps(r) for r in _policy_requests()) + b"\n"
    (folder / "otlp-20261120T130000Z-90002.jsonl").write_bytes(policy)
    # tool_use sends the tool calls' arguments and results to the judge.
    config.write_text("privacy:\n  drop_services: [internal-admin]\n"
                      "judging:\n  judges: [no_error, non_empty_response, relevance, tool_use]\n")


def run_day(instance: dg.DagsterInstance, **kwargs: object) -> dg.ExecuteInProcessResult:
    """daily_eval for DAY, failures returned rather than raised."""
    job = defs().resolve_job_def("daily_eval")
    return job.execute_in_process(partition_key=DAY.isoformat(), instance=instance, raise_on_error=False,
                                  **kwargs)


def downstream_dump(db: Path) -> dict[str, str]:
    """Every table but the raw ones, as JSON text per table."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
                  if t not in RAW_TABLES]
        return {t: json.dumps(con.execute(f'SELECT * FROM "{t}"').fetchall(), default=str)  # noqa: S608
                for t in tables}


def leaks(text: str, needles: list[str]) -> list[str]:
    """The needles found in ``text``, case folded."""
    low = text.lower()
    return [n for n in needles if n.lower() in low]


def event_log(instance: dg.DagsterInstance, run_id: str) -> str:
    """Every Dagster event of the run, serialised."""
    return "\n".join(dg.serialize_value(e) for e in instance.all_logs(run_id))
