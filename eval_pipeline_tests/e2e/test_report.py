"""Contract: the daily HTML report is self-contained (no script, no network), escapes trace-derived
text, shows its charts, and renders in a real headless Chromium without console errors."""

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from eval_pipeline import synthetic
from eval_pipeline.definitions import defs
from eval_pipeline.lib import report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DAYS = [dt.date(2026, 11, 18) + dt.timedelta(days=i) for i in range(4)]


def _render_sample() -> str:
    trend = [{"trace_date": d, "traces": 10 + i, "error_rate": 0.1, "error_rate_trailing7": 0.1,
              "latency_p50_ms": 100.0, "latency_p95_ms": 300.0, "latency_p99_ms": 900.0} for i, d in enumerate(DAYS)]
    judge_trend = [{"trace_date": d, "judge": "no_error", "weighted_pass_rate": 0.9, "ci_low": 0.8, "ci_high": 0.95,
                    "regression": d == DAYS[-1]} for d in DAYS]
    metrics = {"traces": 13, "error_rate": 0.1, "top_tool_paths": [{"path": "<script>alert(1)</script>", "traces": 3}]}
    judges = [{"judge": "no_error", "weighted_pass_rate": 0.9, "ci_low": 0.8, "ci_high": 0.95, "passed": 9,
               "failed": 1, "unknown": 0, "unknown_reasons": {}, "spend_usd": 0.0}]
    strata = [{"judge": "no_error", "stratum": "<b>tool</b> | ok", "weighted_pass_rate": 1.0, "ci_low": 0.7,
               "ci_high": 1.0, "judged": 3, "unknown": 0}]
    agreement = [{"judge": "no_error", "labelled": 5, "compared": 5, "accuracy": 0.8, "cohen_kappa": 0.55}]
    return report.render_day(DAYS[-1], metrics, judges, strata, trend, judge_trend, agreement)


def test_report_is_self_contained_and_escapes_trace_text() -> None:
    page = _render_sample()
    assert "<script" not in page  # no script at all, and the tool name is escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;tool&lt;/b&gt;" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing fetched from the network
    assert page.count("<svg") == 5  # traces, error rate, latency, one judge, tool paths
    assert 'class="regression"' in page and "regression</span>" in page
    assert "Agreement with human labels" in page and "0.55" in page


def test_report_chart_without_data_says_so() -> None:
    assert "No data yet." in report.line_chart("empty", [], {"x": []})


@pytest.fixture
def reports(pipeline_env: dict[str, Path]) -> Path:
    synthetic.generate(pipeline_env["landing"], DAYS[0], len(DAYS), sessions_per_day=10, seed=4)
    job = defs().resolve_job_def("daily_eval")
    with dg.instance_for_test() as instance:
        for day in DAYS:
            assert job.execute_in_process(partition_key=day.isoformat(), instance=instance).success
    return pipeline_env["reports"]


def _chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    assert CHROMIUM, "Chromium is needed for this test: apt-get install chromium (.ci/run installs it)"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp / 'chromium-profile'}", "--enable-logging=stderr", "--v=0"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
def test_report_renders_in_headless_chromium(reports: Path, tmp_path: Path) -> None:
    page = reports / "daily" / f"{DAYS[-1]}.html"
    assert (reports / "index.html").is_file() and page.is_file()
    shot = tmp_path / "report.png"
    run = _chromium(["--window-size=1280,1600", "--hide-scrollbars", f"--screenshot={shot}", page.as_uri()], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    dom = _chromium(["--dump-dom", page.as_uri()], tmp_path).stdout
    charts = re.findall(r'<figure class="chart">.*?</figure>', dom, flags=re.S)
    assert len(charts) >= 6  # traffic, error rate, latency, three judges, tool paths
    assert all("<svg" in c for c in charts if "No data yet." not in c)
    assert dom.count('class="series"') >= 6
    index = _chromium(["--dump-dom", (reports / "index.html").as_uri()], tmp_path).stdout
    assert all(f'daily/{d}.html' in index for d in DAYS)
