"""Contract: the daily HTML reports the daily_eval job writes render in a real headless Chromium without
console errors, with their charts and an index linking every day (the page's own contract, without a
browser, is in lib/test_report.py)."""

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from eval_pipeline import synthetic
from eval_pipeline.definitions import defs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DAYS = [dt.date(2026, 11, 18) + dt.timedelta(days=i) for i in range(4)]


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
