"""Charts as inline SVG: no script, no network needed to show them. Every chart has dated x-axis ticks and a
legend naming each line, the 95 % interval band and the regression marks it draws."""

import datetime as dt
import math
from collections.abc import Sequence

from eval_pipeline.lib.report.html import esc, num, pct

_COLORS = ["#1f5fbf", "#d97706", "#15803d", "#7c3aed", "#b42318", "#0e7490"]
BAND_COLOR, BAND_OPACITY = "#1f5fbf", 0.22  # light enough for the line, dark enough to see on a screen
MARK_COLOR = "#b42318"
_TICKS = 6  # date labels on the x axis at most


def empty_chart(title: str, message: str = "No data yet.") -> str:
    return f'<figure class="chart"><figcaption>{esc(title)}</figcaption><p>{esc(message)}</p></figure>'


def date_label(d: dt.date | str) -> str:
    """A short date for an axis tick: ``Nov 18`` (the year is in the page's title and the first tick)."""
    return f"{d:%b} {d.day}" if isinstance(d, dt.date) else str(d)


def tick_positions(n: int, most: int = _TICKS) -> list[int]:
    """Indices of the points that get a date label: all of them when few, else every k-th counted back from
    the newest, so the last day (the report's) is always labelled and labels never crowd."""
    if n <= most:
        return list(range(n))
    step = math.ceil((n - 1) / (most - 1))
    return sorted(range(n - 1, -1, -step))


def _legend(names: Sequence[str], band: bool, marks: bool) -> str:
    items = [f'<span class="key"><i style="background:{_COLORS[k % len(_COLORS)]}"></i>{esc(name)}</span>'
             for k, name in enumerate(names)]
    if band:
        items.append(f'<span class="key band-key"><i style="background:{BAND_COLOR};opacity:{BAND_OPACITY + 0.1}">'
                     "</i>95 % interval</span>")
    if marks:
        items.append(f'<span class="key"><i class="ring" style="border-color:{MARK_COLOR}"></i>regression</span>')
    return f'<div class="legend">{"".join(items)}</div>'


def line_chart(title: str, xs: Sequence[dt.date], series: dict[str, Sequence[float | None]], *,
               band: tuple[Sequence[float | None], Sequence[float | None]] | None = None,
               marks: Sequence[bool] | None = None, percent: bool = False, height: int = 180) -> str:
    """An SVG line chart over days; ``band`` draws the 95 % interval of the first series, ``marks`` circles
    its points on the days flagged (regressions)."""
    w, h, left, right, bottom, top = 340, height, 44, 20, 26, 8
    values = [v for s in series.values() for v in s if v is not None]
    if band:
        values += [v for v in (*band[0], *band[1]) if v is not None]
    if not values or not xs:
        return empty_chart(title)
    lo, hi = (0.0, 1.0) if percent else (min(0.0, min(values)), max(values) or 1.0)
    n = len(xs)

    def x(i: int) -> float:
        return left + (w - left - right) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return top + (h - top - bottom) * (1 - (v - lo) / ((hi - lo) or 1.0))

    parts = [f'<svg viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{esc(title)}">']
    for frac in (0.0, 0.5, 1.0):
        v = lo + (hi - lo) * frac
        parts.append(f'<line x1="{left}" x2="{w - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e4e7ec"/>'
                     f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end" fill="#5b6475">'
                     f'{pct(v) if percent else num(v)}</text>')
    base = h - bottom
    parts.append(f'<line x1="{left}" x2="{w - right}" y1="{base}" y2="{base}" stroke="#98a2b3"/>')
    for i in tick_positions(n):
        parts.append(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{base}" y2="{base + 4}" stroke="#98a2b3"/>'
                     f'<text class="tick" x="{x(i):.1f}" y="{base + 15}" font-size="10" text-anchor="middle" '
                     f'fill="#5b6475">{esc(date_label(xs[i]))}</text>')
    if band:
        pts = [(i, a, b) for i, (a, b) in enumerate(zip(*band, strict=True)) if a is not None and b is not None]
        if pts:
            poly = [f"{x(i):.1f},{y(b):.1f}" for i, _, b in pts] + [f"{x(i):.1f},{y(a):.1f}" for i, a, _ in reversed(pts)]
            parts.append(f'<polygon class="band" points="{" ".join(poly)}" fill="{BAND_COLOR}" '
                         f'fill-opacity="{BAND_OPACITY}" stroke="{BAND_COLOR}" stroke-opacity="0.35" '
                         f'stroke-width="0.8"><title>95 % interval</title></polygon>')
    for k, (name, s) in enumerate(series.items()):
        pts = [(i, v) for i, v in enumerate(s) if v is not None]
        color = _COLORS[k % len(_COLORS)]
        if len(pts) > 1:
            line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in pts)
            parts.append(f'<polyline class="series" points="{line}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts += [f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{color}"><title>{esc(xs[i])}: '
                  f'{pct(v) if percent else num(v, 1)}</title></circle>' for i, v in pts]
    flagged = False
    if marks:
        first = next(iter(series.values()))
        for i, (m, v) in enumerate(zip(marks, first, strict=True)):
            if m and v is not None:
                flagged = True
                parts.append(f'<circle class="regression" cx="{x(i):.1f}" cy="{y(v):.1f}" r="6" fill="none" '
                             f'stroke="{MARK_COLOR}" stroke-width="2"><title>regression on {xs[i]}</title></circle>')
    parts.append("</svg>")
    legend = _legend(list(series), band is not None, flagged)
    return f'<figure class="chart"><figcaption>{esc(title)}</figcaption>{"".join(parts)}{legend}</figure>'


def bar_chart(title: str, items: Sequence[tuple[str, float]]) -> str:
    """Horizontal bars (e.g. top tool paths)."""
    if not items:
        return empty_chart(title)
    w, row, label_w = 340, 20, 180
    top = max(v for _, v in items) or 1
    parts = [f'<svg viewBox="0 0 {w} {row * len(items) + 4}" width="100%" role="img" aria-label="{esc(title)}">']
    for i, (label, v) in enumerate(items):
        bw = (w - label_w - 30) * v / top
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(f'<text x="{label_w - 4}" y="{i * row + 14}" font-size="10" text-anchor="end">'
                     f'<title>{esc(label)}</title>{esc(short)}</text>'
                     f'<rect class="bar" x="{label_w}" y="{i * row + 3}" width="{bw:.1f}" height="{row - 6}" fill="#1f5fbf"/>'
                     f'<text x="{label_w + bw + 4:.1f}" y="{i * row + 14}" font-size="11">{num(v)}</text>')
    parts.append("</svg>")
    return f'<figure class="chart"><figcaption>{esc(title)}</figcaption>{"".join(parts)}</figure>'
