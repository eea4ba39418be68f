"""Contract: the daily HTML report is self-contained (no script, no network), escapes trace-derived text,
opens with what changed (the checks that did not pass with their figures and thresholds, the regressions by
effect size with intervals and the trailing baseline, example records behind each) and says "No failed
checks" on a quiet day without claiming a pass it was not given; it marks the regressions it is given
(badges, the check's sentences, chart marks), shows the strata that moved most with every row collapsed,
draws interval bands in the legend on dated axes, and writes page and index whole, the index with each
judge's trend and every day's check status."""

import datetime as dt
import re
from pathlib import Path

from eval_pipeline.lib import drift, report
from eval_pipeline.lib.check_results import ERROR, WARN, CheckOutcome
from eval_pipeline.lib.report import charts, sections

DAYS = [dt.date(2026, 11, 18) + dt.timedelta(days=i) for i in range(4)]
TRAFFIC_WARNING = CheckOutcome(
    "daily_metrics", "traffic_no_drift", passed=False, severity=WARN,
    description="error rate 30.0% is over 2.0x the trailing 5.0%",
    figures={"error_rate": 0.3, "error_rate_baseline": 0.05, "error_rate_jump": 2.0, "latency_p95_ms": 1200.5})
EXAMPLE = {"trace_id": "abc123", "stratum": "(no tools) | error", "request": "mail <EMAIL:1a2b3c4d> <script>",
           "response": None, "error": "PaymentError: 502", "rationale": "no_error: the trace ended with status error"}


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


def _day(**extra) -> report.DayReport:
    return report.DayReport(day=DAYS[-1], **{**_sample(flagged=extra.pop("flagged", True)), **extra})


def _drop(judge: str, stratum: str | None, today: float, n: float = 300) -> drift.PassRateComparison:
    c = drift.compare_rates(today, n, 0.95, 2100)
    return drift.PassRateComparison(judge, stratum, c, regressed=True)


def _what_changed(page: str) -> str:
    [section] = re.findall(r'<section class="changes[^"]*" id="what-changed">.*?</section>', page, flags=re.S)
    return section


def test_report_is_self_contained_and_escapes_trace_text() -> None:
    page = report.render_day(_day(checks=[TRAFFIC_WARNING], examples={sections.check_key(TRAFFIC_WARNING): [EXAMPLE]}))
    assert "<script" not in page  # no script at all, and the tool name and the request are escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;tool&lt;/b&gt;" in page
    assert "mail &lt;EMAIL:1a2b3c4d&gt; &lt;script&gt;" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing fetched from the network
    assert page.count("<svg") == 5  # traces, error rate, latency, one judge, tool paths
    assert 'class="regression"' in page and "regression</span>" in page
    assert "Agreement with human labels" in page and "0.55" in page


def test_report_chart_without_data_says_so() -> None:
    assert "No data yet." in report.line_chart("empty", [], {"x": []})


def test_report_badges_the_stratum_and_lists_the_regressions_it_is_given() -> None:
    drop = _drop("no_error", "<b>tool</b> | ok", 0.55)
    page = report.render_day(_day(flagged=False, regressions=[drop]))
    assert page.count("regression</span>") == 2  # the judge's row and the stratum's row
    assert "Regressions against the trailing 7 days" in page
    assert "no_error [&lt;b&gt;tool&lt;/b&gt; | ok]: 55.0% vs 95.0%" in page  # the check's sentence, escaped
    assert drop.sentence.startswith("no_error [<b>tool</b> | ok]: 55.0% vs 95.0%")


def test_report_of_a_steady_day_shows_no_regression_and_no_failed_checks() -> None:
    passed = CheckOutcome("daily_metrics", "traffic_no_drift", passed=True, figures={"error_rate": 0.05})
    page = report.render_day(_day(flagged=False, checks=[passed]))
    assert "regression</span>" not in page and 'class="regression"' not in page
    assert "Regressions against" not in page
    section = _what_changed(page)
    assert "No failed checks: all 1 passed." in section and 'class="changes tone-ok"' in section
    assert '<div class="finding">' not in section


def test_report_without_check_outcomes_never_says_they_passed() -> None:
    section = _what_changed(report.render_day(_day(flagged=False)))
    assert "No check outcomes were recorded" in section and "No failed checks" not in section


def test_report_opens_with_the_failed_checks_their_figures_and_example_records() -> None:
    broken = CheckOutcome("eval_dataset", "every_stratum_represented", passed=None,
                          description="the check was planned but gave no result")
    ok = CheckOutcome("raw_traces", "trace_id_unique", passed=True)
    page = report.render_day(_day(flagged=False, checks=[broken, TRAFFIC_WARNING, ok],
                                  examples={sections.check_key(TRAFFIC_WARNING): [EXAMPLE]}))
    section = _what_changed(page)
    assert page.index('id="what-changed"') < page.index('class="cards"')  # at the top
    assert "Of 3 checks, 1 failed and 1 gave a warning." in section and 'class="changes tone-alarm"' in section
    assert '<span class="tag no-result">no result</span> <b>every_stratum_represented</b>' in section
    assert '<span class="tag warning">warning</span> <b>traffic_no_drift</b>' in section
    assert "<small>error rate</small><b>30.0%</b>" in section
    assert "<small>error rate jump (threshold)</small><b>2x</b>" in section
    assert "<small>latency p95 ms</small><b>1,200 ms</b>" in section
    assert "trace_id_unique" not in section  # a passed check stays out of what changed ...
    assert "<details><summary>Every check of the day: 3</summary>" in page  # ... and is listed below
    row = re.search(r"<tr><td><code [^>]*>abc123</code>.*?</tr>", section).group(0)
    assert "PaymentError: 502 · no_error: the trace ended with status error" in row
    assert "SELECT * FROM masked_traces WHERE trace_id = &#x27;abc123&#x27;" in row  # how to find the trace


def test_report_ranks_regressions_by_effect_size_with_intervals_and_baseline() -> None:
    small, large = _drop("no_error", None, 0.85), _drop("no_error", "<b>tool</b> | ok", 0.55)
    examples = {sections.regression_key(large): [EXAMPLE]}
    section = _what_changed(report.render_day(_day(flagged=False, regressions=[small, large], examples=examples)))
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td class=n>([^<]+)</td><td class=n>([^<]+)</td>"
                      r"<td class=n>([^<]+)</td>", section)
    assert [(j, s) for j, s, *_ in rows] == [("no_error", "&lt;b&gt;tool&lt;/b&gt; | ok"), ("no_error", "all traffic")]
    _, _, today, baseline, change = rows[0]
    assert today == "55.0% (70.0% – 100.0%)"  # today's rate with the stratum's 95 % interval
    assert baseline == "95.0%" and change.startswith("-40.0% (")
    assert rows[1][2] == "85.0% (80.0% – 95.0%)"  # the judge's overall interval
    assert section.index("abc123") > section.index("Regressions against")  # examples follow the ranking
    assert "2 pass-rate drops (no_error)." in section


def test_report_strata_show_the_largest_moves_and_every_row_collapsed() -> None:
    strata = [{"judge": "no_error", "stratum": f"s{i}", "weighted_pass_rate": 0.9, "ci_low": 0.8, "ci_high": 0.95,
               "judged": 40, "unknown": 0} for i in range(15)]
    compared = [drift.PassRateComparison("no_error", f"s{i}", drift.compare_rates(0.95 - 0.02 * i, 60, 0.95, 400),
                                         regressed=False) for i in range(15)]
    page = report.render_day(report.DayReport(**{**_sample(flagged=False), "strata": strata}, day=DAYS[-1],
                                              compared=compared, min_effective_n=30))
    top = page[page.index("Strata that moved most"):page.index("<details><summary>Judges by stratum")]
    shown = re.findall(r"<tr><td>no_error</td><td>(s\d+)</td>", top)
    assert shown == [f"s{i}" for i in range(14, 4, -1)]  # the ten largest moves, largest first
    assert "<details><summary>Judges by stratum: all 15 rows</summary>" in page
    quiet = report.render_day(_day(flagged=False, min_effective_n=30))
    assert "No stratum had enough records today and over the trailing 7 days to compare" in quiet


def test_report_chart_band_is_visible_in_the_legend_on_dated_axes() -> None:
    days = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(30)]
    svg = report.line_chart("Pass rate", days, {"weighted pass rate": [0.9] * 30},
                            band=([0.8] * 30, [0.95] * 30), marks=[i == 29 for i in range(30)], percent=True)
    assert f'fill-opacity="{charts.BAND_OPACITY}"' in svg and charts.BAND_OPACITY >= 0.2
    legend = svg[svg.index('<div class="legend">'):]
    assert "weighted pass rate</span>" in legend and "95 % interval</span>" in legend and "regression</span>" in legend
    ticks = re.findall(r'class="tick"[^>]*>([^<]+)<', svg)
    assert ticks[-1] == "Nov 30" and ticks[0] == "Nov 6" and 4 <= len(ticks) <= 6  # the report's day labelled
    assert charts.tick_positions(4) == [0, 1, 2, 3] and charts.tick_positions(8) == [1, 3, 5, 7]
    no_band = report.line_chart("Traces", days[:3], {"traces": [1.0, 2.0, 3.0]})
    assert "95 % interval" not in no_band and "regression</span>" not in no_band


def test_report_figures_read_as_people_write_them() -> None:
    assert sections.figure("error_rate", 0.3) == "30.0%" and sections.figure("latency_p95_jump", 1.5) == "1.5x"
    assert sections.figure("unknown_rate_max", 0.2) == "0.2" and sections.figure("cost_per_trace_usd", 0.00125) == "$0.00125"
    assert sections.figure("judges", ["a", "b", "c", "d", "e", "f", "g"]) == "a, b, c, d, e and 2 more"
    assert sections.figure("psi", None) == "n/a" and sections.figure("rows", 12345) == "12,345"
    assert sections.figure("unknown_rates", {"relevance": None, "no_error": 0.25}) == "relevance: n/a, no_error: 25.0%"


def test_report_write_report_writes_the_page_and_the_index(tmp_path: Path) -> None:
    days = [{"trace_date": d, "traces": 10, "error_rate": 0.1, "latency_p95_ms": 300.0, "dataset_records": 4}
            for d in reversed(DAYS)]
    history = [{**r, "judged": 10, "unknown": 0} for r in _sample()["judge_trend"]]
    status = {DAYS[-1]: {"checks": 25, "passed": 22, "failed": 2, "warnings": 1, "no_result": 0},
              DAYS[-2]: {"checks": 25, "passed": 25, "failed": 0, "warnings": 0, "no_result": 0}}
    r = _day(days=days, judge_history=history, check_status=status)
    page, index = report.write_report(tmp_path / "reports", r)
    assert page == tmp_path / "reports" / "daily" / f"{DAYS[-1]}.html" and index == tmp_path / "reports" / "index.html"
    assert page.read_text(encoding="utf-8") == report.render_day(r)
    html = index.read_text(encoding="utf-8")
    assert all(f'daily/{d}.html' in html for d in DAYS)
    assert "Pass rate: no_error" in html and 'class="band"' in html and 'class="regression"' in html
    assert '<span class="bad">2 failed, 1 warning</span>' in html and '<span class="ok">all 25 passed</span>' in html
    assert html.count("not recorded") == 2  # the days without outcomes say so, never "passed"
    assert sorted(p.name for p in (tmp_path / "reports").rglob("*.tmp")) == []
