"""Contract of input fingerprints (lib/fingerprints.py): a day's rollup is kept when the landing files behind its
traces are unchanged and rebuilt when one of them changes, when a late or skewed file adds spans to its traces,
when its rows were changed by hand, or when a rebuild is forced; files of other days do not rebuild it. A step's
fingerprint follows its upstream's and its settings; scores waiting for a retry are counted; a rule suite's
results are reused only for rows that hash the same and the same rules; the code version follows the sources."""

import dataclasses
import datetime as dt
import os
from pathlib import Path

import pytest

from eval_pipeline.lib import fingerprints, ingest, warehouse
from eval_pipeline.lib.config import Sampling
from eval_pipeline.lib.expectations import Rule, RuleResult
from eval_pipeline_tests.support import otlp_builders as b
from eval_pipeline_tests.support.landing import DAY, T, agent_trace, write


def _ingest(db: Path, landing: Path, run_id: str, day: dt.date = DAY, **kw: object) -> ingest.DayIngest:
    with warehouse.connect(db) as con:
        return ingest.ingest_day(con, landing, day, workers=1, run_id=run_id, **kw)


@pytest.fixture
def day(pipeline_env: dict[str, Path]) -> tuple[Path, Path, list[str]]:
    """Two files of DAY, three traces each, built once by run r1."""
    landing, db = pipeline_env["landing"], pipeline_env["warehouse"]
    ids = [b.new_trace_id() for _ in range(6)]
    traces = [agent_trace(t, T + dt.timedelta(minutes=i)) for i, t in enumerate(ids)]
    write(landing / "a.json", [s for t in traces[:3] for s in t])
    write(landing / "b.json", [s for t in traces[3:] for s in t])
    assert _ingest(db, landing, "r1").unchanged_since is None
    return db, landing, ids


def _root(db: Path, trace_id: str) -> str:
    with warehouse.connect(db, read_only=True) as con:
        return con.execute("SELECT span_id FROM spans WHERE trace_id = $t AND parent_span_id IS NULL",
                           {"t": trace_id}).fetchall()[0][0]


def test_unchanged_day_is_kept_with_its_figures(day) -> None:
    db, landing, _ = day
    again = _ingest(db, landing, "r2")
    assert again.unchanged_since == "r1"
    assert (again.traces, again.spans, again.duplicate_spans, again.files_read) == (6, 24, 0, 0)
    assert _ingest(db, landing, "r3").unchanged_since == "r1"  # a kept day stays kept from the run that built it


def test_changed_file_rebuilds_the_day(day) -> None:
    db, landing, ids = day
    write(landing / "a.json", agent_trace(ids[0], T))  # the file now holds one trace of its three
    again = _ingest(db, landing, "r2")
    assert (again.unchanged_since, again.traces) == (None, 4)


def test_new_mtime_rebuilds_the_day(day) -> None:
    db, landing, _ = day
    st = (landing / "a.json").stat()
    os.utime(landing / "a.json", ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # same bytes, written again
    assert _ingest(db, landing, "r2").unchanged_since is None


def test_late_file_with_a_span_of_the_days_trace_rebuilds_it(day) -> None:
    db, landing, ids = day
    # late: the child starts after midnight, so the file's own spans are all of the next day
    late = b.span(ids[5], b.new_span_id(), "chat gpt-4o", dt.datetime(2026, 11, 21, 0, 0, 5), 100,
                  parent=_root(db, ids[5]))
    write(landing / "2026-11-21" / "late.json", [late])
    again = _ingest(db, landing, "r2")
    assert (again.unchanged_since, again.spans) == (None, 25)


def test_skewed_file_stamped_the_day_before_rebuilds_the_day(day) -> None:
    db, landing, ids = day
    # skew: a child of a trace of DAY stamped on the day before by a clock running behind
    skewed = b.span(ids[0], b.new_span_id(), "chat gpt-4o", dt.datetime(2026, 11, 19, 23, 59, 59), 100,
                    parent=_root(db, ids[0]))
    write(landing / "skewed.json", [skewed])
    again = _ingest(db, landing, "r2")
    assert (again.unchanged_since, again.spans) == (None, 25)


def test_files_of_another_day_keep_the_day(day) -> None:
    db, landing, _ = day
    write(landing / "next.json", agent_trace(b.new_trace_id(), T + dt.timedelta(days=1)))
    again = _ingest(db, landing, "r2")
    assert (again.files_read, again.unchanged_since) == (1, "r1")
    assert _ingest(db, landing, "r3", day=DAY + dt.timedelta(days=1)).unchanged_since is None


def test_rows_changed_by_hand_or_a_forced_rebuild_rebuild_the_day(day) -> None:
    db, landing, _ = day
    assert _ingest(db, landing, "r2", force=True).unchanged_since is None
    with warehouse.connect(db) as con:
        con.execute("DELETE FROM spans WHERE trace_date = $d AND parent_span_id IS NOT NULL", {"d": DAY})
    again = _ingest(db, landing, "r3")
    assert (again.unchanged_since, again.spans) == (None, 24)


@pytest.mark.parametrize(("env", "tags", "forced"), [
    ("1", {}, True), ("true", {}, True), ("", {"eval/force_rebuild": "yes"}, True),
    ("0", {}, False), ("", {"eval/force_rebuild": "false"}, False), ("", {}, False)])
def test_force_rebuild_reads_the_environment_and_the_run_tag(monkeypatch: pytest.MonkeyPatch, env: str,
                                                               tags: dict, forced: bool) -> None:
    monkeypatch.setenv("EVAL_FORCE_REBUILD", env)
    assert fingerprints.force_rebuild(tags) is forced


def test_derived_fingerprint_follows_upstream_and_settings(day) -> None:
    db, landing, ids = day
    with warehouse.connect(db) as con:
        assert fingerprints.derived_fingerprint(con, "eval_dataset", "masked_traces", DAY, Sampling()) is None
        fp = fingerprints.derived_fingerprint(con, "masked_traces", "raw_traces", DAY, "policy")
        assert fp == fingerprints.derived_fingerprint(con, "masked_traces", "raw_traces", DAY, "policy")
        assert fp != fingerprints.derived_fingerprint(con, "masked_traces", "raw_traces", DAY, "other policy")
    write(landing / "a.json", agent_trace(ids[0], T))
    _ingest(db, landing, "r2")
    with warehouse.connect(db) as con:
        assert fp != fingerprints.derived_fingerprint(con, "masked_traces", "raw_traces", DAY, "policy")


def test_digest_tells_config_values_apart() -> None:
    assert fingerprints.digest(Sampling()) == fingerprints.digest(Sampling())
    assert fingerprints.digest(Sampling()) != fingerprints.digest(Sampling(target_size=201))


def test_scores_to_retry_counts_failed_calls_not_answers_or_unasked(pipeline_env: dict[str, Path]) -> None:
    with warehouse.connect(pipeline_env["warehouse"]) as con:
        for i, (verdict, reason) in enumerate([("pass", None), ("unknown", "no_model_configured"),
                                               ("unknown", "judge_abstained"), ("unknown", "missing_input")]):
            con.execute("INSERT INTO judge_scores (trace_id, trace_date, judge, verdict, unknown_reason) "
                        "VALUES ($t, $d, 'j', $v, $r)", {"t": str(i), "d": DAY, "v": verdict, "r": reason})
        assert fingerprints.scores_to_retry(con, DAY) == 0  # false alarm: nothing there to ask again
        for reason in ("timeout", "budget_exhausted", "retries_exhausted"):
            con.execute("INSERT INTO judge_scores (trace_id, trace_date, judge, verdict, unknown_reason) "
                        "VALUES ('x', $d, 'j', 'unknown', $r)", {"d": DAY, "r": reason})
        assert fingerprints.scores_to_retry(con, DAY) == 3


RULES = [Rule("ids", "ExpectColumnValuesToNotBeNull", {"column": "trace_id"})]


def test_rule_results_are_reused_only_for_the_same_rows_and_rules(day) -> None:
    db, _, _ = day
    calls = []

    def validate(frame):
        calls.append(frame.height)
        return [RuleResult("ids", True, 0, [], {})]

    def run(rules: list[Rule], run_id: str):
        return fingerprints.cached_rule_results(lambda: warehouse.connect(db), "check:t", DAY,
                                                "traces/raw_traces_checks_frame", rules, run_id, validate)

    assert run(RULES, "r1") == (6, [RuleResult("ids", True, 0, [], {})], None)
    assert run(RULES, "r2") == (6, [RuleResult("ids", True, 0, [], {})], "r1")
    assert calls == [6]
    other = [dataclasses.replace(RULES[0], kwargs={"column": "status"})]
    assert run(other, "r3")[2] is None
    with warehouse.connect(db) as con:
        con.execute("UPDATE raw_traces SET latency_ms = -1 WHERE trace_id = (SELECT min(trace_id) FROM raw_traces)")
    assert run(other, "r4")[2] is None  # one value changed: validated again
    assert calls == [6, 6, 6]


def test_code_version_follows_the_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(fingerprints, "_LIB_DIR", tmp_path)
    fingerprints.code_version.cache_clear()
    try:
        first = fingerprints.code_version()
        (tmp_path / "a.py").write_text("x = 2\n")
        fingerprints.code_version.cache_clear()
        assert fingerprints.code_version() != first
    finally:
        monkeypatch.undo()
        fingerprints.code_version.cache_clear()
