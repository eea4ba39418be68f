"""Contract: masked_traces is the only door through which trace content leaves the raw tables.

- Unique personal data and secrets planted in the sample traffic (request, response, tool arguments and
  results, retrieved documents, error message, ids), every structured type in more than one form, reach no
  table after masking, no file in the reports folder, no export, no request an LLM judge receives on the
  wire (a loopback OpenAI-compatible server), no Dagster event of the run and nothing the run prints; nor
  does the generated masking key, which lives in ``<warehouse>.masking.key``.
- Names, places and organisations planted in the request, response, a retrieved document, a tool call's
  arguments and the error message are masked by the name tier in eval_dataset: they reach no judge request, judge score, export, report, event or output
  (masked_traces keeps them: the name tier reads the eval records only).
- Feedback labels the spans carry reach judges through ``masked_traces.feedback``.
- The row policy drops opted-out traces and listed services before masking, and the asset's metadata
  counts what was dropped and masked by type, never the values.
- No asset after masking reads ``raw_traces`` or ``spans``: neither by declared dependency, nor in its
  code or SQL, nor at run time (with the day's raw rows deleted, re-running everything downstream of
  masked_traces gives the same tables).
"""

import inspect
import json
import re
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from eval_pipeline.definitions import defs
from eval_pipeline import synthetic
from eval_pipeline.lib import dev_eval, export, masking
from eval_pipeline.lib.warehouse import SQL_DIR, transaction
from eval_pipeline_tests.support.openai_server import ChatRequest, Reply, serve
from eval_pipeline_tests.support.privacy_planted import (
    DAY,
    NAME_NEEDLES,
    NAMES,
    NEEDLES,
    PLANTED,
    SESSION,
    USER,
    downstream_dump,
    event_log,
    leaks,
    run_day,
)


@pytest.mark.slow
def test_privacy_planted_pii_reaches_no_table_report_event_or_output_after_masking(
        planted: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("EVAL_MASKING_KEY")  # the demo's generated per-warehouse key

    def judge(request: ChatRequest) -> Reply:
        return Reply(content=json.dumps({"verdict": "pass", "rationale": "scripted"}))

    with serve(judge) as server:
        monkeypatch.setenv("EVAL_JUDGE_MODEL", "openai/test-judge")
        monkeypatch.setenv("EVAL_JUDGE_API_BASE", server.base_url)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        with dg.instance_for_test() as instance:
            result = run_day(instance)
            assert result.success
            events = event_log(instance, result.run_id)
            mat = instance.get_latest_materialization_event(dg.AssetKey("masked_traces")).asset_materialization
        wire = [json.dumps(r.body) for r in server.requests]
    with duckdb.connect(str(planted["warehouse"])) as con:
        with transaction(con):
            dev_eval.build(con, DAY, 1, "planted")
        exported = export.export_dev_eval(con, planted["reports"] / "export", DAY)
    printed = capfd.readouterr()
    key_file = planted["warehouse"].with_name(planted["warehouse"].name + ".masking.key")
    key = key_file.read_text().strip()
    assert key_file.stat().st_mode & 0o077 == 0 and len(key) == 64

    with duckdb.connect(str(planted["warehouse"]), read_only=True) as con:
        raw = json.dumps(con.execute("SELECT * FROM raw_traces").fetchall(), default=str)
        pii = con.execute("SELECT pii_found, user_id, session_id, feedback FROM masked_traces "
                          "WHERE user_id = $u", {"u": masking.pseudonym("USER", USER, key.encode())}).fetchall()
    assert leaks(raw, list(PLANTED.values())) == list(PLANTED.values())  # the raw zone does hold it all
    assert len(pii) == 1  # the planted trace is there, its ids pseudonymised with the generated key
    assert set(PLANTED) <= set(pii[0][0])
    assert pii[0][2] == masking.pseudonym("SESSION", SESSION, key.encode())
    assert pii[0][3] == [{"judge": "relevance", "label": "pass"}]  # feedback for judges, from the spans

    downstream = downstream_dump(planted["warehouse"])
    assert {"masked_traces", "eval_dataset", "dev_eval_dataset", "judge_scores", "daily_metrics"} <= set(downstream)
    # The planted trace was selected and judged, its names masked by the name tier.
    assert "<PERSON:" in downstream["eval_dataset"] and "<LOCATION:" in downstream["eval_dataset"]
    assert wire and any("<PERSON:" in body for body in wire)
    # the tool_use judge received the planted trace's tool call, its name masked in the JSON arguments
    assert any("lookup_customer" in body and re.search(r"customer\W+<PERSON:", body) for body in wire)
    for table, text in downstream.items():
        # masked_traces keeps names (no pattern finds them); the name tier masks them in the eval records.
        names = NAME_NEEDLES if table != "masked_traces" else []
        assert leaks(text, [*NEEDLES, *names, key]) == [], table
    reports = [p for p in planted["reports"].rglob("*") if p.is_file()]
    assert exported and any("export" in p.parts for p in reports)
    for path in reports:
        assert leaks(path.read_text(errors="replace"), [*NEEDLES, *NAME_NEEDLES, key]) == [], path
    for body in wire:  # what the LLM judges received
        assert leaks(body, [*NEEDLES, *NAME_NEEDLES, key]) == []
    assert leaks(events, [*NEEDLES, *NAME_NEEDLES, key]) == []
    assert leaks(printed.out + printed.err, [*NEEDLES, *NAME_NEEDLES, key]) == []
    assert set(NAMES) <= {k for k in NAMES if f"<{k}:" in downstream["eval_dataset"]}

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
                out[t] = [tuple(_without_run_ids(v) for v in row) for row in
                          con.execute(f'SELECT {", ".join(cols)} FROM "{t}" ORDER BY ALL').fetchall()]  # noqa: S608
        return out


def _without_run_ids(value: object) -> object:
    """A check's figures without the run a kept result points to (``same_rows_as_run``, by design the only
    figure that names a run)."""
    if isinstance(value, str) and value.startswith("{") and "same_rows_as_run" in value:
        figures = json.loads(value)
        figures.pop("same_rows_as_run")
        return json.dumps(figures, sort_keys=True)
    return value


@pytest.mark.slow
def test_privacy_downstream_of_masking_runs_the_same_without_raw_rows(pipeline_env: dict[str, Path]) -> None:
    synthetic.generate(pipeline_env["landing"], DAY, 1, sessions_per_day=6, seed=9)
    d, downstream = _downstream_of_masking()
    in_job = d.resolve_job_def("daily_eval").asset_layer.executable_asset_keys
    downstream = [k for k in downstream if k in in_job]
    with dg.instance_for_test() as instance:
        assert run_day(instance).success
        tables = list(downstream_dump(pipeline_env["warehouse"]))
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
