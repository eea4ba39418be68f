"""Contract: the daily report answers "is the agent getting worse, and where?" from a real daily_eval run.
Traffic whose error rate jumps from 5 % to 30 % on its last day gives a page that opens with the checks that
did not pass (their figures and thresholds) and example failing traces (trace id, masked request, the
judge's rationale); a steady day before it says "No failed checks" (the false-alarm side). The report runs
after every check of its run, so none is missing; a planted e-mail in a raw trace never reaches the pages.
The pages render in a real headless Chromium without console errors or network requests, with their
charts (interval bands in the legend, dated axes) and an index with each judge's trend and every day's
check status (the page's own contract, without a browser, is in lib/test_report.py)."""

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import orjson
import pytest

from eval_pipeline.definitions import defs
from eval_pipeline_tests.support import otlp_builders as b

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DAYS = [dt.date(2026, 11, 16) + dt.timedelta(days=i) for i in range(5)]
STEADY, JUMP = DAYS[-2], DAYS[-1]  # three baseline days, a steady day, then the error-rate jump
TRACES = 40
ERRORS = {d: 12 if d == JUMP else 2 for d in DAYS}  # 5 % every day, 30 % on the last
PLANTED_EMAIL = "jane.planted.doe@example.org"


def _trace_id(day: dt.date, i: int) -> str:
    return f"{day:%m%d}{i:028x}"


def _trace(day: dt.date, i: int) -> list[dict]:
    """A two-span agent trace (OTel GenAI): the first ERRORS[day] traces of a day end in an error."""
    tid, root, llm = _trace_id(day, i), b.new_span_id(), b.new_span_id()
    start = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(minutes=7 * i)
    error = i < ERRORS[day]
    question = f"Where is parcel P{day:%d}{i:03d}? It was due on Monday."
    if error and i == 0 and day == JUMP:
        question = f"Please write to {PLANTED_EMAIL} about parcel P{i:03d}, it is late."  # planted: raw PII
    root_attrs = {"gen_ai.operation.name": "invoke_agent", "user.id": f"user-{day}-{i}",
                  "gen_ai.conversation.id": f"sess-{day}-{i}",
                  "gen_ai.input.messages": orjson.dumps([{"role": "user", "parts": [
                      {"type": "text", "content": question}]}]).decode()}
    if not error:
        root_attrs["gen_ai.output.messages"] = orjson.dumps([{"role": "assistant", "parts": [
            {"type": "text", "content": f"Parcel P{i:03d} arrives on Friday."}]}]).decode()
    return [
        b.span(tid, root, "invoke_agent support", start, 900.0 + 37 * (i % 9), attributes=root_attrs,
               status=2 if error else 1, message="payment service returned 502" if error else None),
        b.span(tid, llm, "chat gpt-4o-mini", start + dt.timedelta(milliseconds=5), 400, parent=root,
               attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                           "gen_ai.usage.input_tokens": 40, "gen_ai.usage.output_tokens": 12}),
    ]


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The five days through daily_eval; the reports folder and each day's run result."""
    tmp = tmp_path_factory.mktemp("report_chain")
    with pytest.MonkeyPatch.context() as mp:
        for var, sub in (("EVAL_WAREHOUSE", "warehouse.duckdb"), ("EVAL_LANDING_DIR", "landing"),
                         ("EVAL_REPORTS_DIR", "reports")):
            mp.setenv(var, str(tmp / sub))
        mp.setenv("EVAL_MASKING_KEY", "test-masking-key")
        for var in ("EVAL_CONFIG", "EVAL_JUDGE_MODEL", "EVAL_JUDGE_API_BASE"):
            mp.delenv(var, raising=False)
        for day in DAYS:
            spans = [s for i in range(TRACES) for s in _trace(day, i)]
            folder = tmp / "landing" / day.isoformat()
            folder.mkdir(parents=True)
            (folder / "otlp.json").write_bytes(b.dumps(b.request(spans)))
        job = defs().resolve_job_def("daily_eval")
        runs = {}
        with dg.instance_for_test() as instance:
            for day in DAYS:
                runs[day] = job.execute_in_process(partition_key=day.isoformat(), instance=instance,
                                                   raise_on_error=False)
        yield {"reports": tmp / "reports", "runs": runs, "warehouse": tmp / "warehouse.duckdb"}


def _page(chain: dict, day: dt.date) -> str:
    return (chain["reports"] / "daily" / f"{day}.html").read_text(encoding="utf-8")


def _what_changed(html: str) -> str:
    [section] = re.findall(r'<section class="changes[^"]*" id="what-changed">.*?</section>', html, flags=re.S)
    return section


def _finding(section: str, check: str) -> str:
    [found] = [f for f in section.split('<div class="finding">') if f"<b>{check}</b>" in f]
    return found


def test_report_of_an_error_rate_jump_opens_with_the_failing_checks_and_example_traces(chain: dict) -> None:
    run = chain["runs"][JUMP]
    assert run.success
    failed = {e.asset_check_evaluation_data.check_name for e in run.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed}
    assert {"traffic_no_drift", "judge_pass_rate_no_regression"} <= failed
    section = _what_changed(_page(chain, JUMP))
    assert 'class="changes tone-alarm"' in section
    traffic = _finding(section, "traffic_no_drift")
    # the figure, its baseline and the threshold, as the check measured them
    assert "<small>error rate</small><b>30.0%</b>" in traffic
    assert "<small>error rate baseline</small><b>5.0%</b>" in traffic
    assert "<small>error rate jump (threshold)</small><b>2x</b>" in traffic
    # example failing traces: trace id, masked request (the planted e-mail replaced), the judge's rationale
    planted = _trace_id(JUMP, 0)
    assert planted in traffic
    assert re.search(r"Please write to &lt;EMAIL:[0-9a-f]+&gt; about parcel", traffic)
    assert "no_error: " in traffic and "payment service returned 502" in traffic
    regression = _finding(section, "judge_pass_rate_no_regression")
    assert "no_error" in regression
    assert "Regressions against the trailing 7 days, largest drop first" in section


def test_report_of_a_steady_day_says_no_failed_checks(chain: dict) -> None:
    run = chain["runs"][STEADY]
    assert run.success
    section = _what_changed(_page(chain, STEADY))
    assert "No failed checks: all " in section and 'class="changes tone-ok"' in section
    assert '<div class="finding">' not in section and "Regressions against" not in section


def test_report_runs_after_every_check_of_its_run_and_shows_them_all(chain: dict) -> None:
    run = chain["runs"][JUMP]
    events = [e for e in run.all_events if e.event_type_value in ("ASSET_CHECK_EVALUATION", "STEP_START")]
    report_start = next(i for i, e in enumerate(events) if e.step_key == "daily_report")
    checks = [i for i, e in enumerate(events) if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(checks) > 20 and max(checks) < report_start
    html = _page(chain, JUMP)
    shown = re.findall(r'<tr><td><span class="tag [a-z-]+">[a-z ]+</span></td><td>(\w+)</td>', html)
    names = {e.asset_check_evaluation_data.check_name for e in run.all_events
             if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert set(shown) == names and "no result" not in html


def test_report_never_shows_raw_trace_text(chain: dict) -> None:
    pages = [chain["reports"] / "index.html", *sorted((chain["reports"] / "daily").glob("*.html"))]
    assert len(pages) == len(DAYS) + 1
    for p in pages:
        assert PLANTED_EMAIL not in p.read_text(encoding="utf-8"), p


def _chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    assert CHROMIUM, "Chromium is needed for this test: apt-get install chromium (.ci/run installs it)"
    # Every host name resolves to nothing: a page that reached for the network would log a failed load.
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp / 'chromium-profile'}",
             "--enable-logging=stderr", "--v=0"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, check=False)


def _screenshot(url: str, shot: Path, tmp: Path, height: int) -> None:
    run = _chromium([f"--window-size=1280,{height}", "--hide-scrollbars", f"--screenshot={shot}", url], tmp)
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line or "ERR_NAME_NOT_RESOLVED" in line]
    assert console == []


def test_report_renders_in_headless_chromium(chain: dict, tmp_path: Path) -> None:
    page = chain["reports"] / "daily" / f"{JUMP}.html"
    _screenshot(page.as_uri(), tmp_path / "report.png", tmp_path, 2600)
    dom = _chromium(["--dump-dom", page.as_uri()], tmp_path).stdout
    assert not re.search(r"<(img|link|script|iframe|object|embed)\b|\burl\(", dom)  # nothing to fetch
    # what changed comes first, before the figures and the charts
    assert dom.index('id="what-changed"') < dom.index('class="cards"') < dom.index('<figure class="chart">')
    charts = re.findall(r'<figure class="chart">.*?</figure>', dom, flags=re.S)
    assert len(charts) >= 6  # traffic, error rate, latency, the judges with a rate, tool paths
    judge_charts = [c for c in charts if "Pass rate:" in c and "<svg" in c]
    assert judge_charts and all('class="band"' in c and "95 % interval</span>" in c for c in judge_charts)
    assert all(re.search(r'class="tick"[^>]*>Nov 20<', c) for c in charts if "<polyline" in c)  # dated x axis
    assert '<details><summary>Judges by stratum: all' in dom
    index = chain["reports"] / "index.html"
    _screenshot(index.as_uri(), tmp_path / "index.png", tmp_path, 1400)
    idom = _chromium(["--dump-dom", index.as_uri()], tmp_path).stdout
    assert all(f"daily/{d}.html" in idom for d in DAYS)
    assert "Judges' pass rates" in idom and idom.count('class="band"') >= 1
    jump_row = re.search(rf'<tr><td><a href="daily/{JUMP}.html">.*?</tr>', idom, flags=re.S).group(0)
    steady_row = re.search(rf'<tr><td><a href="daily/{STEADY}.html">.*?</tr>', idom, flags=re.S).group(0)
    assert re.search(r'class="bad">\d+ failed', jump_row) and 'class="ok">all ' in steady_row
