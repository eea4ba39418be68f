"""Contract: the daily HTML report is self-contained (no script, no network), escapes trace-derived text,
shows its charts, marks the regressions it is given (badges on the judge and the stratum, the sentences the
check writes) and is written whole, page and index."""

import datetime as dt
import re
from pathlib import Path

from eval_pipeline.lib import drift, report

DAYS = [dt.date(2026, 11, 18) + dt.timedelta(days=i) for i in range(4)]


def _sample(flagged: bool = True) -> dict:
    trend = [{"trace_date": d, "traces": 10 + i, "error_rate": 0.1, "error_rate_trailing7": 0.1,
              "latency_p50_ms": 100.0, "latency_p95_ms": 300.0, "latency_p99_ms": 900.0} for i, d in enumerate(DAYS)]
    judge_trend = [{"trace_date": d, "judge": "no_error", "weighted_pass_rate": 0.9, "ci_low": 0.8, "ci_high": 0.95,
                    "regression": flagged and d == DAYS[-1]} for d in DAYS]
    metrics = {"traces": 13, "error_rate": 0.1, "top_tool_paths": [{"path": "<script>alert(1)</script>", "traces": 3}]}
    judges = [{"judge": "no_error", "weighted_pass_rate": 0.9, "ci_low": 0.8, "ci_high": 0.95, "passed": 9,
               "failed": 1, "unknown": 0, "unknown_reasons": {}, "spend_usd": 0.0}]
    strata = [{"judge": "no_error", "stratum": "<b>tool</b> | ok", "weighted_pass_rate": 1.0, "ci_low": 0.7,
               "ci_high": 1.0, "judged": 3, "unknown": 0}]
    agreement = [{"judge": "no_error", "labelled": 5, "compared": 5, "accuracy": 0.8, "cohen_kappa": 0.55}]
    return {"metrics": metrics, "judges": judges, "strata": strata, "traffic_trend": trend,
            "judge_trend": judge_trend, "agreement": agreement}


def _render_sample() -> str:
    s = _sample()
    return report.render_day(DAYS[-1], s["metrics"], s["judges"], s["strata"], s["traffic_trend"], s["judge_trend"],
                             s["agreement"])


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




def _stratum_drop() -> drift.PassRateComparison:
    c = drift.compare_rates(0.55, 300, 0.95, 2100)
    return drift.PassRateComparison("no_error", "<b>tool</b> | ok", c, regressed=True)


def test_report_badges_the_stratum_and_lists_the_regressions_it_is_given() -> None:
    drop = _stratum_drop()
    page = report.render_day(DAYS[-1], **_sample(flagged=False), regressions=[drop])
    assert page.count("regression</span>") == 2  # the judge's row and the stratum's row
    assert "Regressions against the trailing 7 days" in page
    assert "no_error [&lt;b&gt;tool&lt;/b&gt; | ok]: 55.0% vs 95.0%" in page  # the check's sentence, escaped
    assert drop.sentence.startswith("no_error [<b>tool</b> | ok]: 55.0% vs 95.0%")


def test_report_of_a_steady_day_shows_no_regression() -> None:
    page = report.render_day(DAYS[-1], **_sample(flagged=False))
    assert "regression</span>" not in page and 'class="regression"' not in page
    assert "Regressions against" not in page


def test_report_write_report_writes_the_page_and_the_index(tmp_path: Path) -> None:
    days = [{"trace_date": d, "traces": 10, "error_rate": 0.1, "latency_p95_ms": 300.0, "dataset_records": 4}
            for d in reversed(DAYS)]
    r = report.DayReport(day=DAYS[-1], **_sample(), days=days)
    page, index = report.write_report(tmp_path / "reports", r)
    assert page == tmp_path / "reports" / "daily" / f"{DAYS[-1]}.html" and index == tmp_path / "reports" / "index.html"
    assert page.read_text(encoding="utf-8") == report.render_day(DAYS[-1], **_sample())
    assert all(f'daily/{d}.html' in index.read_text(encoding="utf-8") for d in DAYS)
    assert sorted(p.name for p in (tmp_path / "reports").rglob("*.tmp")) == []
