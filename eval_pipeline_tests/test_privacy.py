"""Contract: masked_traces is the only door through which trace content leaves the raw tables.

- Unique personal data and secrets planted in the sample traffic (request, response, tool arguments and
  results, retrieved documents, error message, ids) reach no table after masking, no file in the reports
  folder, no Dagster event of the run and nothing the run prints; nor does the generated masking key,
  which lives in ``<warehouse>.masking.key``.
- Feedback labels the spans carry reach judges through ``masked_traces.feedback``.
- The row policy drops opted-out traces and listed services before masking, and the asset's metadata
  counts what was dropped and masked by type, never the values.
- No asset after masking reads ``raw_traces`` or ``spans``: neither by declared dependency, nor in its
  code or SQL, nor at run time (with the day's raw rows deleted, re-running everything downstream of
  masked_traces gives the same tables).
- When personal data survives masking, the blocking checks fail and nothing downstream runs for the day;
  their metadata shows counts and shapes only.
"""

import datetime as dt
import inspect
import json
import re
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from eval_pipeline import synthetic
from eval_pipeline.definitions import defs
from eval_pipeline.lib import masking
from eval_pipeline.lib.warehouse import SQL_DIR
from eval_pipeline_tests.support import otlp_builders as ob

DAY = dt.date(2026, 11, 20)
RAW_TABLES = {"raw_traces", "spans", "quarantine", "landing_files"}

# Every value is unique to this test, so finding it anywhere means it leaked.
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
}
USER, SESSION = "user-planted-42", "sess-planted-42"
OPT_OUT_TEXT = "optout-needle-9q8 call +44 20 7946 0555"
SERVICE_TEXT = "svcdrop-needle-3k2"
# What must never be found downstream: the values, and pieces of them that survive reformatting.
NEEDLES = [*PLANTED.values(), "zq-planted", "PLANTEDabc", USER, SESSION, "7946 0777", "0343 6467", "0532 0130",
           "219-09", "113.77",
           "Evergreen", "February 1987", "optout-needle", "7946 0555", SERVICE_TEXT]


def _planted_request() -> dict:
    t0 = dt.datetime.combine(DAY, dt.time(12, 0))
    tid, root, tool, retr = ob.new_trace_id(), ob.new_span_id(), ob.new_span_id(), ob.new_span_id()
    p = PLANTED
    spans = [
        ob.span(tid, root, "agent", t0, 900, status=2, message=f"crm refused key {p['SECRET']} from {p['IP']}",
                attributes={"openinference.span.kind": "AGENT", "session.id": SESSION, "user.id": USER,
                            "feedback.relevance": "pass",
                            "input.value": f"I'm {p['EMAIL']}, born {p['DOB']}, call {p['PHONE']}",
                            "output.value": f"Refunded card {p['CARD']} to IBAN {p['IBAN']}"}),
        ob.span(tid, tool, "crm", t0 + dt.timedelta(milliseconds=100), 200, parent=root,
                attributes={"openinference.span.kind": "TOOL", "tool.name": "lookup_customer",
                            "input.value": json.dumps({"ssn": p["SSN"], "email": p["EMAIL"]}),
                            "output.value": json.dumps({"address": f"{p['ADDRESS']}, Springfield",
                                                        "password": "Plant3d-Pa55"})}),
        ob.span(tid, retr, "retrieve", t0 + dt.timedelta(milliseconds=400), 100, parent=root,
                attributes={"openinference.span.kind": "RETRIEVER",
                            "retrieval.documents.0.document.content": f"Customer note: phone {p['PHONE']}"}),
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


@pytest.fixture
def planted(pipeline_env: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    synthetic.generate(pipeline_env["landing"], DAY, 1, sessions_per_day=6, seed=5)
    folder = pipeline_env["landing"] / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "otlp-20261120T120000Z-90001.json").write_bytes(ob.dumps(_planted_request()))
    policy = b"\n".join(ob.dumps(r) for r in _policy_requests()) + b"\n"
    (folder / "otlp-20261120T130000Z-90002.jsonl").write_bytes(policy)
    config = tmp_path / "eval.yaml"
    config.write_text("privacy:\n  drop_services: [internal-admin]\n")
    monkeypatch.setenv("EVAL_CONFIG", str(config))
    return pipeline_env


def _run(instance: dg.DagsterInstance, **kwargs: object) -> dg.ExecuteInProcessResult:
    job = defs().resolve_job_def("daily_eval")
    return job.execute_in_process(partition_key=DAY.isoformat(), instance=instance, raise_on_error=False,
                                  **kwargs)


def _downstream_dump(db: Path) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
                  if t not in RAW_TABLES]
        return {t: json.dumps(con.execute(f'SELECT * FROM "{t}"').fetchall(), default=str)  # noqa: S608
                for t in tables}


def _leaks(text: str, needles: list[str]) -> list[str]:
    low = text.lower()
    return [n for n in needles if n.lower() in low]


def _event_log(instance: dg.DagsterInstance, run_id: str) -> str:
    return "\n".join(dg.serialize_value(e) for e in instance.all_logs(run_id))


@pytest.mark.slow
def test_privacy_planted_pii_reaches_no_table_report_event_or_output_after_masking(
        planted: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("EVAL_MASKING_KEY")  # the demo's generated per-warehouse key
    with dg.instance_for_test() as instance:
        result = _run(instance)
        assert result.success
        events = _event_log(instance, result.run_id)
        mat = instance.get_latest_materialization_event(dg.AssetKey("masked_traces")).asset_materialization
    printed = capfd.readouterr()
    key_file = planted["warehouse"].with_name(planted["warehouse"].name + ".masking.key")
    key = key_file.read_text().strip()
    assert key_file.stat().st_mode & 0o077 == 0 and len(key) == 64

    with duckdb.connect(str(planted["warehouse"]), read_only=True) as con:
        raw = json.dumps(con.execute("SELECT * FROM raw_traces").fetchall(), default=str)
        pii = con.execute("SELECT pii_found, user_id, session_id, feedback FROM masked_traces "
                          "WHERE user_id = $u", {"u": masking.pseudonym("USER", USER, key.encode())}).fetchall()
    assert _leaks(raw, list(PLANTED.values())) == list(PLANTED.values())  # the raw zone does hold it all
    assert len(pii) == 1  # the planted trace is there, its ids pseudonymised with the generated key
    assert set(PLANTED) <= set(pii[0][0])
    assert pii[0][2] == masking.pseudonym("SESSION", SESSION, key.encode())
    assert pii[0][3] == [{"judge": "relevance", "label": "pass"}]  # feedback for judges, from the spans

    downstream = _downstream_dump(planted["warehouse"])
    assert {"masked_traces", "eval_dataset", "judge_scores", "daily_metrics"} <= set(downstream)
    for table, text in downstream.items():
        assert _leaks(text, [*NEEDLES, key]) == [], table
    reports = [p for p in planted["reports"].rglob("*") if p.is_file()]
    for path in reports:
        assert _leaks(path.read_text(errors="replace"), [*NEEDLES, key]) == [], path
    assert _leaks(events, [*NEEDLES, key]) == []
    assert _leaks(printed.out + printed.err, [*NEEDLES, key]) == []

    meta = {k: v.value for k, v in mat.metadata.items()}
    assert meta["rows_dropped"] == {"opt_out": 1, "service": 1, "tenant": 0}
    assert set(PLANTED) <= set(meta["entities_masked"])
    assert meta["dagster/row_count"] == meta["traces_read"] - 2


def _downstream_of_masking() -> tuple[dg.Definitions, list[dg.AssetKey]]:
    d = defs()
    graph = d.resolve_asset_graph()
    todo, seen = [dg.AssetKey("masked_traces")], set()
    while todo:
        for child in graph.get(todo.pop()).child_keys:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return d, sorted(seen, key=lambda k: k.to_user_string())


_RAW_READ = re.compile(r"\b(?:FROM|JOIN)\s+(?:raw_traces|spans)\b", re.IGNORECASE)


def test_privacy_no_asset_after_masking_depends_on_or_queries_raw_tables() -> None:
    d, downstream = _downstream_of_masking()
    graph = d.resolve_asset_graph()
    assert {k.to_user_string() for k in downstream} >= {"eval_dataset", "judge_scores", "daily_metrics"}
    raw = {dg.AssetKey("raw_traces"), dg.AssetKey("spans")}
    reads = set()
    for key in downstream:
        assert not graph.get(key).parent_keys & raw, key
        fn = d.resolve_assets_def(key).op.compute_fn.decorated_fn
        # the asset's own code, and the module-level helpers it may call
        module = inspect.getsource(inspect.getmodule(fn))
        helpers = "".join(inspect.getsource(f) for f in vars(inspect.getmodule(fn)).values()
                          if inspect.isfunction(f) and f.__module__ == fn.__module__
                          and not hasattr(f, "op") and f.__name__.startswith("_"))
        source = inspect.getsource(fn) + helpers
        assert not _RAW_READ.search(module), key
        for name in re.findall(r"load_sql\(\s*[\"']([\w/]+)[\"']", source):
            if _RAW_READ.search((SQL_DIR / f"{name}.sql").read_text()):
                reads.add((key.to_user_string(), name))
    assert reads == set()


def _snapshot(db: Path, tables: list[str]) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        out = {}
        for t in tables:
            cols = [c for (c,) in con.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = $t", {"t": t}).fetchall()
                    if c not in ("computed_at", "scored_at")]
            if cols:
                out[t] = con.execute(f'SELECT {", ".join(cols)} FROM "{t}" ORDER BY ALL').fetchall()  # noqa: S608
        return out


@pytest.mark.slow
def test_privacy_downstream_of_masking_runs_the_same_without_raw_rows(pipeline_env: dict[str, Path]) -> None:
    synthetic.generate(pipeline_env["landing"], DAY, 1, sessions_per_day=6, seed=9)
    d, downstream = _downstream_of_masking()
    in_job = d.resolve_job_def("daily_eval").asset_layer.executable_asset_keys
    downstream = [k for k in downstream if k in in_job]
    with dg.instance_for_test() as instance:
        assert _run(instance).success
        tables = list(_downstream_dump(pipeline_env["warehouse"]))
        before = _snapshot(pipeline_env["warehouse"], tables)
        with duckdb.connect(str(pipeline_env["warehouse"])) as con:
            con.execute("DELETE FROM raw_traces; DELETE FROM spans")
        job = d.resolve_job_def("daily_eval")
        again = job.execute_in_process(partition_key=DAY.isoformat(), instance=instance, raise_on_error=False,
                                       asset_selection=downstream)
        assert again.success
        ran = {e.asset_key for e in again.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert ran == set(downstream)
    after = _snapshot(pipeline_env["warehouse"], tables)
    assert before["masked_traces"] and after == before


def _no_masking(df: pl.DataFrame, key: bytes, names: object = None) -> tuple[pl.DataFrame, Counter]:
    # a masker that lets everything through: the regression the blocking check exists for
    return df.with_columns(pl.lit([], dtype=masking._PII_FOUND).alias("pii_found")), Counter()  # noqa: SLF001


@pytest.mark.slow
def test_privacy_blocking_checks_stop_the_day_when_pii_survives(planted: dict[str, Path],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(masking, "mask_frame", _no_masking)
    with dg.instance_for_test() as instance:
        result = _run(instance)
        events = _event_log(instance, result.run_id)
    assert not result.success
    checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert checks["no_pii_left"].passed is False
    assert checks["user_id_pseudonymised"].passed is False
    meta = {k: v.value for k, v in checks["no_pii_left"].metadata.items()}
    assert set(PLANTED) - {"DOB", "ADDRESS"} <= set(meta["entities_left_by_type"])
    assert meta["masked_samples"] and all("shape" in s for s in meta["masked_samples"])
    materialized = {e.asset_key.to_user_string() for e in result.all_events
                    if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert "masked_traces" in materialized
    assert not materialized & {"eval_dataset", "judge_scores", "daily_metrics", "daily_judge_results"}
    with duckdb.connect(str(planted["warehouse"]), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM eval_dataset").fetchall() == [(0,)]
    # The failing checks describe what survived without repeating it.
    assert _leaks(events, NEEDLES) == []
