"""Self-contained HTML reports: one page per day and an index, charts as inline SVG, no script and no
network needed to open them. Inputs are rows of the dashboard tables (masked data only)."""

import datetime as dt
import html
from collections.abc import Sequence
from typing import Any

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:20px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#5b6475;margin-bottom:16px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:10px 12px}
.card b{display:block;font-size:20px}.card span{color:#5b6475;font-size:12px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:12px}
figure{background:#fff;border:1px solid #dde1e8;border-radius:8px;margin:0;padding:8px}
figcaption{font-weight:600;margin-bottom:4px}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}
th,td{border:1px solid #dde1e8;padding:4px 8px;text-align:left}th{background:#eef1f5}
td.n{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#b42318;font-weight:600}
a{color:#1f5fbf}
"""


def _esc(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1%}"


def _num(v: float | None, digits: int = 0) -> str:
    return "n/a" if v is None else f"{v:,.{digits}f}"


def line_chart(title: str, xs: Sequence[dt.date], series: dict[str, Sequence[float | None]], *,
               band: tuple[Sequence[float | None], Sequence[float | None]] | None = None,
               marks: Sequence[bool] | None = None, percent: bool = False) -> str:
    """An SVG line chart over days; ``band`` draws an interval, ``marks`` flags points (regressions)."""
    w, h, left, bottom, top = 340, 170, 44, 22, 8
    values = [v for s in series.values() for v in s if v is not None]
    if band:
        values += [v for v in (*band[0], *band[1]) if v is not None]
    if not values or not xs:
        return f'<figure class="chart"><figcaption>{_esc(title)}</figcaption><p>No data yet.</p></figure>'
    lo, hi = (0.0, 1.0) if percent else (min(0.0, min(values)), max(values) or 1.0)
    n = len(xs)

    def x(i: int) -> float:
        return left + (w - left - 8) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return top + (h - top - bottom) * (1 - (v - lo) / ((hi - lo) or 1.0))

    parts = [f'<svg viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{_esc(title)}">']
    for frac in (0.0, 0.5, 1.0):
        v = lo + (hi - lo) * frac
        parts.append(f'<line x1="{left}" x2="{w - 8}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e4e7ec"/>'
                     f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end" fill="#5b6475">'
                     f'{pct(v) if percent else _num(v)}</text>')
    parts.append(f'<text x="{left}" y="{h - 6}" font-size="10" fill="#5b6475">{xs[0]}</text>'
                 f'<text x="{w - 8}" y="{h - 6}" font-size="10" text-anchor="end" fill="#5b6475">{xs[-1]}</text>')
    if band:
        pts = [(i, a, b) for i, (a, b) in enumerate(zip(*band, strict=True)) if a is not None and b is not None]
        if pts:
            poly = [f"{x(i):.1f},{y(b):.1f}" for i, _, b in pts] + [f"{x(i):.1f},{y(a):.1f}" for i, a, _ in reversed(pts)]
            parts.append(f'<polygon class="band" points="{" ".join(poly)}" fill="#1f5fbf" fill-opacity="0.12"/>')
    colors = ["#1f5fbf", "#d97706", "#15803d", "#7c3aed", "#b42318", "#0e7490"]
    for k, (name, s) in enumerate(series.items()):
        pts = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s) if v is not None]
        color = colors[k % len(colors)]
        if len(pts) > 1:
            parts.append(f'<polyline class="series" points="{" ".join(pts)}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts += [f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="2.5" fill="{color}"/>' for p in pts]
    if marks:
        first = next(iter(series.values()))
        for i, (m, v) in enumerate(zip(marks, first, strict=True)):
            if m and v is not None:
                parts.append(f'<circle class="regression" cx="{x(i):.1f}" cy="{y(v):.1f}" r="6" fill="none" '
                             f'stroke="#b42318" stroke-width="2"><title>regression on {xs[i]}</title></circle>')
    legend = " · ".join(f'<span style="color:{colors[k % len(colors)]}">■</span> {_esc(name)}'
                        for k, name in enumerate(series))
    parts.append("</svg>")
    return f'<figure class="chart"><figcaption>{_esc(title)}</figcaption>{"".join(parts)}<div>{legend}</div></figure>'


def bar_chart(title: str, items: Sequence[tuple[str, float]]) -> str:
    """Horizontal bars (e.g. top tool paths)."""
    if not items:
        return f'<figure class="chart"><figcaption>{_esc(title)}</figcaption><p>No data yet.</p></figure>'
    w, row, label_w = 340, 20, 180
    top = max(v for _, v in items) or 1
    parts = [f'<svg viewBox="0 0 {w} {row * len(items) + 4}" width="100%" role="img" aria-label="{_esc(title)}">']
    for i, (label, v) in enumerate(items):
        bw = (w - label_w - 30) * v / top
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(f'<text x="{label_w - 4}" y="{i * row + 14}" font-size="10" text-anchor="end">'
                     f'<title>{_esc(label)}</title>{_esc(short)}</text>'
                     f'<rect class="bar" x="{label_w}" y="{i * row + 3}" width="{bw:.1f}" height="{row - 6}" fill="#1f5fbf"/>'
                     f'<text x="{label_w + bw + 4:.1f}" y="{i * row + 14}" font-size="11">{_num(v)}</text>')
    parts.append("</svg>")
    return f'<figure class="chart"><figcaption>{_esc(title)}</figcaption>{"".join(parts)}</figure>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td{" class=n" if i in numeric else ""}>{c}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body><main>{body}</main></body></html>")


def render_day(day: dt.date, metrics: dict | None, judges: list[dict], strata: list[dict],
               traffic_trend: list[dict], judge_trend: list[dict], agreement: Sequence[dict] = ()) -> str:
    """The report of one day: headline figures, 30-day trends, judges with intervals, strata."""
    m = metrics or {}
    cards = [("traces", _num(m.get("traces"))), ("error rate", pct(m.get("error_rate"))),
             ("latency p50", f'{_num(m.get("latency_p50_ms"))} ms'), ("latency p95", f'{_num(m.get("latency_p95_ms"))} ms'),
             ("latency p99", f'{_num(m.get("latency_p99_ms"))} ms'),
             ("tokens in / out", f'{_num(m.get("input_tokens"))} / {_num(m.get("output_tokens"))}'),
             ("agent LLM cost" + (" (priced models)" if m.get("unpriced_models") else ""),
              "n/a" if m.get("agent_cost_usd") is None else f'${m["agent_cost_usd"]:,.2f}'),
             ("quarantined records", _num(m.get("quarantined"))), ("eval records", _num(m.get("dataset_records")))]
    out = [f"<h1>Agent evaluation report: {day}</h1>",
           '<div class="sub">Figures from masked traces and judge scores; pass rates are weighted estimates of '
           'the whole day\'s traffic with 95 % intervals. <a href="../index.html">All days</a></div>',
           '<div class="cards">' + "".join(f"<div class=card><b>{v}</b><span>{_esc(k)}</span></div>" for k, v in cards)
           + "</div>"]

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
    paths = [(p["path"], p["traces"]) for p in (m.get("top_tool_paths") or [])]
    charts.append(bar_chart("Top tool paths", paths))
    out += ["<h2>Trends (30 days)</h2>", '<div class="charts">' + "".join(charts) + "</div>"]

    regressions = {r["judge"] for r in judge_trend if r["trace_date"] == day and r["regression"]}
    rows = []
    for j in judges:
        name = _esc(j["judge"]) + (' <span class="bad">regression</span>' if j["judge"] in regressions else "")
        reasons = ", ".join(f"{_esc(k)}: {v}" for k, v in sorted((j.get("unknown_reasons") or {}).items()))
        rows.append([name, pct(j["weighted_pass_rate"]), f'{pct(j["ci_low"])} – {pct(j["ci_high"])}',
                     _num(j["passed"]), _num(j["failed"]), _num(j["unknown"]), reasons or "", f'${j["spend_usd"] or 0:.4f}'])
    out += ["<h2>Judges</h2>", _table(["judge", "weighted pass rate", "95 % interval", "pass", "fail", "unknown",
                                       "unknown reasons", "spend"], rows, {1, 3, 4, 5, 7})]
    if agreement:
        arows = [[_esc(a["judge"]), _num(a["labelled"]), _num(a["compared"]), pct(a["accuracy"]),
                  _num(a["cohen_kappa"], 2) if a["cohen_kappa"] is not None else "n/a"] for a in agreement]
        out += ["<h2>Agreement with human labels</h2>",
                _table(["judge", "labelled", "compared", "accuracy", "Cohen's kappa"], arows, {1, 2, 3, 4})]
    srows = [[_esc(s["judge"]), _esc(s["stratum"]), pct(s["weighted_pass_rate"]),
              f'{pct(s["ci_low"])} – {pct(s["ci_high"])}', _num(s["judged"]), _num(s["unknown"])] for s in strata]
    out += ["<h2>Judges by stratum</h2>",
            _table(["judge", "stratum (tool path | status)", "weighted pass rate", "95 % interval", "judged", "unknown"],
                   srows, {2, 4, 5})]
    return _page(f"Evaluation report {day}", "".join(out))


def render_index(days: list[dict]) -> str:
    rows = [[f'<a href="daily/{r["trace_date"]}.html">{r["trace_date"]}</a>', _num(r["traces"]), pct(r["error_rate"]),
             f'{_num(r["latency_p95_ms"])} ms', _num(r["dataset_records"])] for r in days]
    body = ("<h1>Agent evaluation reports</h1><div class=sub>One page per UTC day, newest first.</div>"
            + _table(["day", "traces", "error rate", "latency p95", "eval records"], rows, {1, 2, 3, 4}))
    return _page("Agent evaluation reports", body)
