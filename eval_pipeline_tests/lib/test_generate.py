"""Contract of ``eval_pipeline.lib.generate``: the synthetic traffic is real OTLP that the project's own readers
(``readers.read_file`` + ``normalize.normalize_span``) turn back into exactly what ``plan_traffic`` meant —
question, answer, tool path, tokens, model, session, user, errors — for every convention family and file format;
it is deterministic for a seed; its delivery defects (duplicates, split traces, a trace crossing midnight) are
really in the files; each malformed file yields a problem while the good spans around it are kept; and
``generate_bulk`` writes about the requested number of well-formed spans.
"""

import collections
import datetime
import re
import zlib
from pathlib import Path

import pytest

from eval_pipeline.lib.ingest import normalize, readers
from eval_pipeline.lib.generate import FAMILIES, FORMATS, generate, generate_bulk, plan_traffic

START = datetime.date(2026, 3, 1)
DAYS = 2
SESSIONS = 12
DAY0_NS = int(datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC).timestamp()) * 1_000_000_000
DAY_NS = 86_400 * 1_000_000_000
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"(\+\d{1,3}[ -]?)?\(?\d{2,4}\)?[ -.]?\d{3,4}[ -.]?\d{3,4}")


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _read(root: Path) -> tuple[dict[Path, readers.FileRead], dict[str, dict[str, dict]]]:
    """Every file read, and the canonical rows by trace id and span id."""
    reads = {f: readers.read_file(f) for f in _files(root)}
    rows: dict[str, dict[str, dict]] = collections.defaultdict(dict)
    for read in reads.values():
        for s in read.spans:
            rows[s.trace_id][s.span_id] = dict(zip(normalize.COLUMNS, normalize.normalize_span(s), strict=True))
    return reads, rows


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict, dict, dict]:
    root = tmp_path_factory.mktemp("landing")
    summary = generate(root, START, DAYS, sessions_per_day=SESSIONS, seed=7)
    plans = {p.trace_id: p for p in plan_traffic(START, DAYS, sessions_per_day=SESSIONS, seed=7)}
    reads, rows = _read(root)
    return root, summary, plans, reads, rows


def test_plan_traffic_is_deterministic_for_a_seed() -> None:
    a = plan_traffic(START, 1, sessions_per_day=6, seed=3)
    b = plan_traffic(START, 1, sessions_per_day=6, seed=3)
    c = plan_traffic(START, 1, sessions_per_day=6, seed=4)
    assert a == b
    assert [p.trace_id for p in a] != [p.trace_id for p in c]


def test_generate_writes_identical_files_for_a_seed(tmp_path: Path) -> None:
    s1 = generate(tmp_path / "a", START, 1, sessions_per_day=6, seed=3)
    s2 = generate(tmp_path / "b", START, 1, sessions_per_day=6, seed=3)
    s3 = generate(tmp_path / "c", START, 1, sessions_per_day=6, seed=4)
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in _files(tmp_path / "a")}
    second = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in _files(tmp_path / "b")}
    third = {p.relative_to(tmp_path / "c"): p.read_bytes() for p in _files(tmp_path / "c")}
    assert s1 == s2
    assert first == second
    assert first != third
    assert s3["traces"] > 0


def test_generate_writes_every_format_in_day_folders(landed) -> None:
    root, summary, _, reads, _ = landed
    suffixes = collections.Counter(f.name.split(".", 1)[1] for f in reads)
    assert set(suffixes) == set(FORMATS)
    assert {f.parent.name for f in reads} == {"2026-03-01", "2026-03-02"}
    assert sum(suffixes.values()) == summary["files"]
    names = [f.name for f in reads]
    assert len(set(names)) == len(names)
    # The reader recognised each container for what it is.
    fmts = {f.name.split(".", 1)[1]: r.fmt for f, r in reads.items() if r.spans and not r.problems}
    assert fmts["pb"] == "otlp-proto"
    assert fmts["binpb"] == "otlp-proto-stream"
    assert fmts["jsonl"] == fmts["jsonl.gz"] == "otlp-jsonl"
    assert fmts["json"] == fmts["json.gz"] == "otlp-json"


def test_generate_uses_every_convention_family_each_day(landed) -> None:
    _, summary, plans, _, rows = landed
    for day in range(DAYS):
        lo = DAY0_NS + day * DAY_NS
        assert {p.family for p in plans.values() if lo <= p.start_ns < lo + DAY_NS} == set(FAMILIES)
    assert set(summary["conventions"]) == set(FAMILIES)
    seen = {c for spans in rows.values() for r in spans.values() for c in r["conventions"]}
    assert set(FAMILIES) <= seen


def test_generate_json_writers_vary_ids_enums_numbers_and_value_kinds(landed) -> None:
    _, _, _, reads, _ = landed
    text = ""
    for f in reads:
        data = f.read_bytes()
        if f.name.endswith(".gz"):
            data = zlib.decompressobj(wbits=47).decompress(data)
        if data[:1] == b"{":
            text += data.decode() + "\n"
    assert re.search(r'"traceId":\s*"[0-9a-f]{32}"', text)
    assert re.search(r'"traceId":\s*"(?=[0-9A-F]*[A-F])[0-9A-F]{32}"', text)  # upper-case hex
    assert re.search(r'"traceId":\s*"[A-Za-z0-9+/]{22}=="', text)  # base64, protobuf's JSON mapping
    assert '"SPAN_KIND_CLIENT"' in text and '"STATUS_CODE_ERROR"' in text
    assert re.search(r'"startTimeUnixNano":\s*\d', text) and re.search(r'"startTimeUnixNano":\s*"\d', text)
    for kind in ("stringValue", "intValue", "doubleValue", "boolValue", "arrayValue", "kvlistValue", "bytesValue"):
        assert f'"{kind}"' in text, kind


def test_generate_reads_back_as_planned(landed) -> None:
    _, summary, plans, _, rows = landed
    damaged = set(summary["damaged_traces"])
    checked = collections.Counter()
    for p in plans.values():
        if p.trace_id in damaged:
            continue
        spans = rows[p.trace_id]
        assert len(spans) == p.n_spans, p.family
        root = spans[p.root_span_id]
        assert root["parent_span_id"] is None
        assert p.question in root["input_text"], p.family
        assert root["output_text"] == p.answer or (p.answer is None and root["status"] == "error"), p.family
        assert root["session_id"] == p.session_id, p.family
        assert root["user_id"] == p.user_id, p.family
        assert (root["status"] == "error") == (p.error_type is not None), p.family
        assert root["error_type"] == p.error_type, p.family
        llm = [(s, spans[s.span_id]) for s in p.steps if s.kind == "llm"]
        assert all(r["span_type"] == "llm" for _, r in llm), p.family
        assert sum(r["input_tokens"] or 0 for _, r in llm) == p.input_tokens, p.family
        assert sum(r["output_tokens"] or 0 for _, r in llm) == p.output_tokens, p.family
        assert all(r["model"] == p.model for s, r in llm if not s.error_type), p.family
        assert all(p.question in r["input_text"] for _, r in llm), p.family
        tools = sorted((spans[s.span_id] for s in p.steps if s.kind == "tool"), key=lambda r: r["start_ns"])
        assert [r["span_type"] for r in tools] == ["tool"] * len(tools)
        assert sorted(r["tool_name"] for r in tools) == sorted(p.tool_path), p.family
        checked[p.family] += 1
    assert set(checked) == set(FAMILIES)
    assert sum(checked.values()) >= len(plans) - len(damaged)


def test_generate_known_trace_has_expected_canonical_values(landed) -> None:
    _, summary, plans, _, rows = landed
    damaged = set(summary["damaged_traces"])
    for family in ("otel_genai", "openinference", "mlflow", "vercel_ai"):
        p = next(p for p in plans.values() if p.family == family and p.trace_id not in damaged
                 and not p.error_type and len(p.tool_path) >= 1)
        spans = rows[p.trace_id]
        tool_rows = [spans[s.span_id] for s in p.steps if s.kind == "tool" and not s.error_type]
        assert tool_rows[0]["tool_name"] == next(s.tool for s in p.steps if s.kind == "tool" and not s.error_type)
        # arguments and result come through as JSON text
        step = next(s for s in p.steps if s.kind == "tool" and not s.error_type)
        row = spans[step.span_id]
        assert normalize._decode(row["tool_arguments"]) == step.arguments
        assert normalize._decode(row["tool_result"]) == step.result
        first_llm = spans[next(s.span_id for s in p.steps if s.kind == "llm")]
        assert first_llm["input_tokens"] > 500  # system prompt and tool schemas are counted


def test_generate_puts_personal_data_in_prompts_and_tool_results(landed) -> None:
    _, _, _, _, rows = landed
    texts = [r["input_text"] or "" for spans in rows.values() for r in spans.values() if r["span_type"] == "agent"]
    results = [r["tool_result"] or "" for spans in rows.values() for r in spans.values() if r["span_type"] == "tool"]
    assert any(EMAIL.search(t) for t in texts)
    assert any(PHONE.search(t) and "+" in t for t in texts)
    assert any(EMAIL.search(t) and PHONE.search(t) for t in results)
    everything = " ".join(texts + results)
    assert re.search(r"\(\d{3}\) 555-01\d\d", everything) or re.search(r"\b0\d{2,3} \d{3,4} \d{3,4}\b", everything)


def test_generate_has_tool_failures_errors_and_latency_tails() -> None:
    plans = plan_traffic(START, 3, sessions_per_day=30, seed=11)
    recovered = [p for p in plans if not p.error_type and any(s.error_type for s in p.steps if s.kind == "tool")]
    assert recovered
    for p in recovered:
        failed = next(s for s in p.steps if s.kind == "tool" and s.error_type)
        assert p.tool_path.count(failed.tool) >= 2  # the agent called it again
    unrecovered = [p for p in plans if p.error_type]
    assert len(unrecovered) >= 3 and all(p.answer is None for p in unrecovered)
    durations = sorted(s.end_ns - s.start_ns for p in plans for s in p.steps if s.kind == "llm")
    assert durations[-1] > 4 * durations[len(durations) // 2]
    assert len({len(p.tool_path) for p in plans}) >= 4
    assert len({tuple(p.tool_path) for p in plans}) >= 12  # common paths and a long tail
    assert len({p.model for p in plans}) >= 6


def test_generate_malformed_files_report_problems_and_keep_good_spans(landed) -> None:
    _, summary, _, reads, _ = landed
    problems = {f: r for f, r in reads.items() if r.problems}
    reasons = [p.reason for r in problems.values() for p in r.problems]
    assert summary["malformed_files"] == len(problems) == 5

    def only(pattern: str, unless: str = "^$") -> readers.FileRead:
        (hit,) = [r for r in problems.values() if any(re.search(pattern, p.reason) for p in r.problems)
                  and not any(re.search(unless, p.reason) for p in r.problems)]
        return hit

    assert not only("empty file").spans
    assert not only("logs or metrics export").spans
    truncated = only("truncated gzip")
    assert truncated.spans  # the readable prefix is kept
    # a broken line in the middle of an otherwise good JSON-lines file: the lines around it are kept
    bad_line = only(r"malformed JSON on line \d+:", unless="gzip")
    assert len(bad_line.problems) == 1
    assert len(bad_line.spans) >= 2 and bad_line.fmt == "otlp-jsonl"
    huge = only("over the 1048576 limit")
    assert any("[dropped:" in str(v) for s in huge.spans for v in s.attributes.values())
    assert len(reasons) >= 5


def test_generate_without_malformed_reads_cleanly(tmp_path: Path) -> None:
    summary = generate(tmp_path, START, 1, sessions_per_day=8, seed=5, malformed=False)
    reads, rows = _read(tmp_path)
    assert [p.reason for r in reads.values() for p in r.problems] == []
    assert summary["malformed_files"] == 0 and summary["damaged_traces"] == []
    assert sum(len(spans) for spans in rows.values()) == summary["spans"]


def test_generate_delivers_duplicates_split_traces_and_a_midnight_trace(landed) -> None:
    _, summary, plans, reads, rows = landed
    where: dict[tuple[str, str], set[Path]] = collections.defaultdict(set)
    trace_files: dict[str, set[Path]] = collections.defaultdict(set)
    for f, r in reads.items():
        for s in r.spans:
            where[(s.trace_id, s.span_id)].add(f)
            trace_files[s.trace_id].add(f)
    twice = [k for k, fs in where.items() if len(fs) > 1]
    assert len(twice) >= summary["duplicate_spans"] >= 2
    split = [t for t, fs in trace_files.items() if len(fs) > 1]
    assert len(split) >= summary["split_traces"] >= 2
    midnight = DAY0_NS + DAY_NS
    crossing = [p for p in plans.values() if p.start_ns < midnight < p.end_ns]
    assert len(crossing) == 1
    spans = rows[crossing[0].trace_id]
    assert spans[crossing[0].root_span_id]["start_ns"] < midnight
    assert all(r["start_ns"] >= midnight for r in spans.values() if r["parent_span_id"])


def test_generate_timestamps_stay_inside_the_days(landed) -> None:
    _, _, _, reads, _ = landed
    spans = [s for r in reads.values() for s in r.spans]
    assert spans
    assert all(DAY0_NS <= s.start_ns <= s.end_ns < DAY0_NS + DAYS * DAY_NS for s in spans)


def test_generate_rejects_an_empty_range(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate(tmp_path, START, 0)


def test_generate_bulk_writes_about_the_requested_span_count(tmp_path: Path) -> None:
    day = datetime.date(2026, 3, 3)
    summary = generate_bulk(tmp_path, day, n_spans=2500, files=3, seed=2)
    reads, rows = _read(tmp_path)
    assert len(reads) == 3 and all(f.suffix == ".jsonl" and f.parent.name == "2026-03-03" for f in reads)
    assert [p.reason for r in reads.values() for p in r.problems] == []
    spans = [s for r in reads.values() for s in r.spans]
    assert len(spans) == summary["spans"]
    assert 2500 <= len(spans) < 2500 + 60
    assert len({(s.trace_id, s.span_id) for s in spans}) == len(spans)
    assert len(rows) == summary["traces"]
    lo = DAY0_NS + 2 * DAY_NS
    assert all(lo <= s.start_ns <= s.end_ns < lo + DAY_NS for s in spans)
    assert all(r.fmt == "otlp-jsonl" for r in reads.values())
    families = {c for t in rows.values() for r in t.values() for c in r["conventions"]}
    assert set(FAMILIES) <= families
    roots = [r for t in rows.values() for r in t.values() if r["parent_span_id"] is None]
    assert len(roots) == summary["traces"]
    assert all(r["session_id"] for r in roots)
