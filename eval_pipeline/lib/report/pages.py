"""The report's pages: one per day and an index of all days, written as files that open without a server.
Inputs are rows of the dashboard tables (masked data only)."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eval_pipeline.lib.drift import PassRateComparison
from eval_pipeline.lib.report.charts import bar_chart, line_chart
from eval_pipeline.lib.report.html import esc, num, page, pct, table

_BADGE = ' <span class="bad">regression</span>'


@dataclass(frozen=True)
class DayReport:
    """What the report of one day shows; ``judge_trend`` rows carry ``regression`` (the judge regressed that
    day, by drift.pass_rate_regressions) and ``regressions`` are the day's drops by the same rule."""

    day: dt.date
    metrics: dict | None
    judges: list[dict]
    strata: list[dict]
    traffic_trend: list[dict]
    judge_trend: list[dict]
    agreement: list[dict] = field(default_factory=list)
    regressions: list[PassRateComparison] = field(default_factory=list)
    days: list[dict] = field(default_factory=list)  # every day with figures, newest first, for the index


def render_day(day: dt.date, metrics: dict | None, judges: list[dict], strata: list[dict],
               traffic_trend: list[dict], judge_trend: list[dict], agreement: Sequence[dict] = (),
               regressions: Sequence[PassRateComparison] = ()) -> str:
    """The report of one day: headline figures, 30-day trends, judges with intervals, regressions, strata."""
    m = metrics or {}
    cards = [("traces", num(m.get("traces"))), ("error rate", pct(m.get("error_rate"))),
             ("latency p50", f'{num(m.get("latency_p50_ms"))} ms'), ("latency p95", f'{num(m.get("latency_p95_ms"))} ms'),
             ("latency p99", f'{num(m.get("latency_p99_ms"))} ms'),
             ("tokens in / out", f'{num(m.get("input_tokens"))} / {num(m.get("output_tokens"))}'),
             ("agent LLM cost" + (" (priced models)" if m.get("unpriced_models") else ""),
              "n/a" if m.get("agent_cost_usd") is None else f'${m["agent_cost_usd"]:,.2f}'),
             ("quarantined records", num(m.get("quarantined"))), ("eval records", num(m.get("dataset_records")))]
    out = [f"<h1>Agent evaluation report: {day}</h1>",
           '<div class="sub">Figures from masked traces and judge scores; pass rates are weighted estimates of '
           'the whole day\'s traffic with 95 % intervals. <a href="../index.html">All days</a></div>',
           '<div class="cards">' + "".join(f"<div class=card><b>{v}</b><span>{esc(k)}</span></div>" for k, v in cards)
           + "</div>",
           "<h2>Trends (30 days)</h2>", '<div class="charts">' + "".join(_charts(m, traffic_trend, judge_trend)) + "</div>"]

    flagged = {r["judge"] for r in judge_trend if r["trace_date"] == day and r["regression"]}
    flagged |= {r.judge for r in regressions}
    rows = []
    for j in judges:
        reasons = ", ".join(f"{esc(k)}: {v}" for k, v in sorted((j.get("unknown_reasons") or {}).items()))
        rows.append([esc(j["judge"]) + (_BADGE if j["judge"] in flagged else ""), pct(j["weighted_pass_rate"]),
                     f'{pct(j["ci_low"])} – {pct(j["ci_high"])}', num(j["passed"]), num(j["failed"]),
                     num(j["unknown"]), reasons or "", f'${j["spend_usd"] or 0:.4f}'])
    out += ["<h2>Judges</h2>", table(["judge", "weighted pass rate", "95 % interval", "pass", "fail", "unknown",
                                      "unknown reasons", "spend"], rows, {1, 3, 4, 5, 7})]
    if regressions:
        out += ["<h2>Regressions against the trailing 7 days</h2>",
                "<ul>" + "".join(f"<li>{esc(r.sentence)}</li>" for r in regressions) + "</ul>"]
    if agreement:
        arows = [[esc(a["judge"]), num(a["labelled"]), num(a["compared"]), pct(a["accuracy"]),
                  num(a["cohen_kappa"], 2) if a["cohen_kappa"] is not None else "n/a"] for a in agreement]
        out += ["<h2>Agreement with human labels</h2>",
                table(["judge", "labelled", "compared", "accuracy", "Cohen's kappa"], arows, {1, 2, 3, 4})]
    dropped = {(r.judge, r.stratum) for r in regressions if r.stratum is not None}
    srows = [[esc(s["judge"]), esc(s["stratum"]) + (_BADGE if (s["judge"], s["stratum"]) in dropped else ""),
              pct(s["weighted_pass_rate"]), f'{pct(s["ci_low"])} – {pct(s["ci_high"])}', num(s["judged"]),
              num(s["unknown"])] for s in strata]
    out += ["<h2>Judges by stratum</h2>",
            table(["judge", "stratum (tool path | status)", "weighted pass rate", "95 % interval", "judged", "unknown"],
                  srows, {2, 4, 5})]
    return page(f"Evaluation report {day}", "".join(out))


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
    by_judge: dict[str, list[dict]] = {}
    for r in judge_trend:
        by_judge.setdefault(r["judge"], []).append(r)
    for judge, rows in sorted(by_judge.items()):
        xs = [r["trace_date"] for r in rows]
        charts.append(line_chart(f"Pass rate: {judge}", xs, {"weighted pass rate": [r["weighted_pass_rate"] for r in rows]},
                                 band=([r["ci_low"] for r in rows], [r["ci_high"] for r in rows]),
                                 marks=[r["regression"] for r in rows], percent=True))
    charts.append(bar_chart("Top tool paths", [(p["path"], p["traces"]) for p in (m.get("top_tool_paths") or [])]))
    return charts


def render_index(days: list[dict]) -> str:
    rows = [[f'<a href="daily/{r["trace_date"]}.html">{r["trace_date"]}</a>', num(r["traces"]), pct(r["error_rate"]),
             f'{num(r["latency_p95_ms"])} ms', num(r["dataset_records"])] for r in days]
    body = ("<h1>Agent evaluation reports</h1><div class=sub>One page per UTC day, newest first.</div>"
            + table(["day", "traces", "error rate", "latency p95", "eval records"], rows, {1, 2, 3, 4}))
    return page("Agent evaluation reports", body)


def write_report(out_dir: Path, r: DayReport) -> tuple[Path, Path]:
    """Write ``<out_dir>/daily/<day>.html`` and ``<out_dir>/index.html``; returns their paths. Each file is
    replaced whole, so a reader never opens half a page."""
    day_page = Path(out_dir) / "daily" / f"{r.day}.html"
    day_page.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(day_page, render_day(r.day, r.metrics, r.judges, r.strata, r.traffic_trend, r.judge_trend,
                                           r.agreement, r.regressions))
    index = Path(out_dir) / "index.html"
    _write_atomically(index, render_index(r.days))
    return day_page, index


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
