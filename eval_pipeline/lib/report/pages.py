"""The report's pages: one per day and an index of all days, written as files that open without a server.
Inputs are rows of the dashboard tables and of ``check_results``, and example records from masked tables."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eval_pipeline.lib.check_results import CheckOutcome
from eval_pipeline.lib.drift import PassRateComparison
from eval_pipeline.lib.pricing import spend_label
from eval_pipeline.lib.report import sections
from eval_pipeline.lib.report.charts import bar_chart, empty_chart, line_chart
from eval_pipeline.lib.report.html import esc, num, page, pct, table


@dataclass(frozen=True)
class DayReport:
    """What the report of one day shows. ``judge_trend`` rows carry ``regression`` (the judge regressed that
    day, by drift.pass_rate_regressions); ``regressions`` are the day's drops by the same rule and ``compared``
    every comparison it made; ``checks`` are the day's check outcomes and ``examples`` the example records
    behind each finding (keyed by ``sections.check_key`` / ``sections.regression_key``). ``days``,
    ``judge_history`` and ``check_status`` feed the index."""

    day: dt.date
    metrics: dict | None
    judges: list[dict]
    strata: list[dict]
    traffic_trend: list[dict]
    judge_trend: list[dict]
    agreement: list[dict] = field(default_factory=list)
    regressions: list[PassRateComparison] = field(default_factory=list)
    days: list[dict] = field(default_factory=list)  # every day with figures, newest first, for the index
    checks: list[CheckOutcome] = field(default_factory=list)
    compared: list[PassRateComparison] = field(default_factory=list)
    examples: dict[str, list[dict]] = field(default_factory=dict)
    judge_history: list[dict] = field(default_factory=list)  # per judge and day, oldest first, for the index
    check_status: dict[dt.date, dict] = field(default_factory=dict)  # per day: check counts, for the index
    min_effective_n: float | None = None


def render_day(r: DayReport) -> str:
    """The report of one day: what changed (checks, regressions, examples), headline figures, 30-day trends,
    judges with intervals, agreement, the strata that moved most, every check."""
    m = r.metrics or {}
    cards = [("traces", num(m.get("traces"))), ("error rate", pct(m.get("error_rate"))),
             ("latency p50", f'{num(m.get("latency_p50_ms"))} ms'), ("latency p95", f'{num(m.get("latency_p95_ms"))} ms'),
             ("latency p99", f'{num(m.get("latency_p99_ms"))} ms'),
             ("tokens in / out", f'{num(m.get("input_tokens"))} / {num(m.get("output_tokens"))}'),
             ("agent LLM cost" + (" (priced models)" if m.get("unpriced_models") else ""),
              "n/a" if m.get("agent_cost_usd") is None else f'${m["agent_cost_usd"]:,.2f}'),
             ("quarantined records", num(m.get("quarantined"))), ("eval records", num(m.get("dataset_records")))]
    intervals = {(j["judge"], None): (j["ci_low"], j["ci_high"]) for j in r.judges}
    intervals |= {(s["judge"], s["stratum"]): (s["ci_low"], s["ci_high"]) for s in r.strata}
    out = [f"<h1>Agent evaluation report: {r.day}</h1>",
           '<div class="sub">Figures from masked traces and judge scores; pass rates are weighted estimates of '
           'the whole day\'s traffic with 95 % intervals. <a href="../index.html">All days</a></div>',
           sections.what_changed(r.checks, r.regressions, r.examples, intervals),
           '<div class="cards">' + "".join(f"<div class=card><b>{v}</b><span>{esc(k)}</span></div>" for k, v in cards)
           + "</div>",
           "<h2>Trends (30 days)</h2>", '<div class="charts">' + "".join(_charts(m, r.traffic_trend, r.judge_trend))
           + "</div>"]

    flagged = {t["judge"] for t in r.judge_trend if t["trace_date"] == r.day and t["regression"]}
    flagged |= {c.judge for c in r.regressions}
    rows = []
    for j in r.judges:
        reasons = ", ".join(f"{esc(k)}: {v}" for k, v in sorted((j.get("unknown_reasons") or {}).items()))
        rows.append([esc(j["judge"]) + (sections.BADGE if j["judge"] in flagged else ""), pct(j["weighted_pass_rate"]),
                     f'{pct(j["ci_low"])} – {pct(j["ci_high"])}', num(j["passed"]), num(j["failed"]),
                     num(j["unknown"]), reasons or "", spend_label(j["spend_usd"], j.get("unpriced_calls"))])
    out += ["<h2>Judges</h2>", table(["judge", "weighted pass rate", "95 % interval", "pass", "fail", "unknown",
                                      "unknown reasons", "spend"], rows, {1, 3, 4, 5, 7})]
    if r.agreement:
        arows = [[esc(a["judge"]), num(a["labelled"]), num(a["compared"]), pct(a["accuracy"]),
                  num(a["cohen_kappa"], 2) if a["cohen_kappa"] is not None else "n/a"] for a in r.agreement]
        out += ["<h2>Agreement with human labels</h2>",
                table(["judge", "labelled", "compared", "accuracy", "Cohen's kappa"], arows, {1, 2, 3, 4})]
    out.append(sections.strata_section(r.strata, r.compared, r.regressions, r.min_effective_n))
    out.append(sections.all_checks(r.checks))
    return page(f"Evaluation report {r.day}", "".join(out))


def _charts(m: dict, traffic_trend: list[dict], judge_trend: list[dict]) -> list[str]:
    days = [r["trace_date"] for r in traffic_trend]
    charts = [
        line_chart("Traces per day", days, {"traces": [r["traces"] for r in traffic_trend]}),
        line_chart("Error rate", days, {"error rate": [r["error_rate"] for r in traffic_trend],
                                        "trailing 7-day mean": [r["error_rate_trailing7"] for r in traffic_trend]},
                   percent=True),
        line_chart("Latency (ms)", days, {"p50": [r["latency_p50_ms"] for r in traffic_trend],
                                          "p95": [r["latency_p95_ms"] for r in traffic_trend],
                                          "p99": [r["latency_p99_ms"] for r in traffic_trend]}),
    ]
    charts += judge_charts(judge_trend)
    charts.append(bar_chart("Top tool paths", [(p["path"], p["traces"]) for p in (m.get("top_tool_paths") or [])]))
    return charts


def judge_charts(trend: Sequence[dict], height: int = 180) -> list[str]:
    """One pass-rate chart per judge: the weighted rate, its 95 % interval band, the regression days circled."""
    by_judge: dict[str, list[dict]] = {}
    for r in trend:
        by_judge.setdefault(r["judge"], []).append(r)
    return [line_chart(f"Pass rate: {judge}", [r["trace_date"] for r in rows],
                       {"weighted pass rate": [r["weighted_pass_rate"] for r in rows]},
                       band=([r["ci_low"] for r in rows], [r["ci_high"] for r in rows]),
                       marks=[r["regression"] for r in rows], percent=True, height=height)
            if any(r["weighted_pass_rate"] is not None for r in rows) else
            empty_chart(f"Pass rate: {judge}", "No pass rate yet: every verdict of these days is unknown "
                        "(see the judges' unknown reasons).")
            for judge, rows in sorted(by_judge.items())]


def render_index(days: Sequence[dict], judge_history: Sequence[dict] = (),
                 check_status: dict[dt.date, dict] | None = None) -> str:
    """Every day, newest first, with its check status and each judge's pass rate; above, each judge's
    pass-rate trend with its interval band."""
    status = check_status or {}
    judges = sorted({h["judge"] for h in judge_history})
    rate = {(h["trace_date"], h["judge"]): h for h in judge_history}
    rows = []
    for r in days:
        d = r["trace_date"]
        cells = [_judge_cell(rate.get((d, j))) for j in judges]
        rows.append([f'<a href="daily/{d}.html">{d}</a>', _status_cell(status.get(d)), num(r["traces"]),
                     pct(r["error_rate"]), f'{num(r["latency_p95_ms"])} ms', num(r["dataset_records"]), *cells])
    trends = judge_charts(judge_history, height=150)
    body = ("<h1>Agent evaluation reports</h1><div class=sub>One page per UTC day, newest first. Pass rates are "
            "weighted estimates of the day's traffic; the band is their 95 % interval.</div>"
            + ("<h2>Judges' pass rates</h2><div class=charts>" + "".join(trends) + "</div>" if trends else "")
            + "<h2>Days</h2>"
            + table(["day", "checks", "traces", "error rate", "latency p95", "eval records",
                     *(f"pass rate: {j}" for j in judges)], rows,
                    {2, 3, 4, 5, *range(6, 6 + len(judges))}))
    return page("Agent evaluation reports", body)


def _status_cell(s: dict | None) -> str:
    if not s:
        return '<span class="sub">not recorded</span>'
    bad = [f"{s[k]} {label}" for k, label in (("failed", "failed"), ("no_result", "no result"),
                                              ("warnings", "warning" + "s" * (s["warnings"] != 1))) if s[k]]
    if not bad:
        return f'<span class="ok">all {s["checks"]} passed</span>'
    return f'<span class="{"bad" if s["failed"] or s["no_result"] else "warn"}">{esc(", ".join(bad))}</span>'


def _judge_cell(h: dict | None) -> str:
    if not h or h["weighted_pass_rate"] is None:
        return "n/a"
    mark = ' <span class="bad" title="regression">▼</span>' if h["regression"] else ""
    return f'{pct(h["weighted_pass_rate"])}{mark}'


def write_report(out_dir: Path, r: DayReport) -> tuple[Path, Path]:
    """Write ``<out_dir>/daily/<day>.html`` and ``<out_dir>/index.html``; returns their paths. Each file is
    replaced whole, so a reader never opens half a page."""
    day_page = Path(out_dir) / "daily" / f"{r.day}.html"
    day_page.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(day_page, render_day(r))
    index = Path(out_dir) / "index.html"
    _write_atomically(index, render_index(r.days, r.judge_history, r.check_status))
    return day_page, index


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
