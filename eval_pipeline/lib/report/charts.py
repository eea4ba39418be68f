"""Charts as inline SVG: no script, no network needed to show them."""

import datetime as dt
from collections.abc import Sequence

from eval_pipeline.lib.report.html import esc, num, pct

_COLORS = ["#1f5fbf", "#d97706", "#15803d", "#7c3aed", "#b42318", "#0e7490"]


def _empty(title: str) -> str:
    return f'<figure class="chart"><figcaption>{esc(title)}</figcaption><p>No data yet.</p></figure>'


def line_chart(title: str, xs: Sequence[dt.date], series: dict[str, Sequence[float | None]], *,
               band: tuple[Sequence[float | None], Sequence[float | None]] | None = None,
               marks: Sequence[bool] | None = None, percent: bool = False) -> str:
    """An SVG line chart over days; ``band`` draws an interval, ``marks`` flags points (regressions)."""
    w, h, left, bottom, top = 340, 170, 44, 22, 8
    values = [v for s in series.values() for v in s if v is not None]
    if band:
        values += [v for v in (*band[0], *band[1]) if v is not None]
    if not values or not xs:
        return _empty(title)
    lo, hi = (0.0, 1.0) if percent else (min(0.0, min(values)), max(values) or 1.0)
    n = len(xs)

    def x(i: int) -> float:
        return left + (w - left - 8) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return top + (h - top - bottom) * (1 - (v - lo) / ((hi - lo) or 1.0))

    parts = [f'<svg viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{esc(title)}">']
    for frac in (0.0, 0.5, 1.0):
        v = lo + (hi - lo) * frac
        parts.append(f'<line x1="{left}" x2="{w - 8}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e4e7ec"/>'
                     f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end" fill="#5b6475">'
                     f'{pct(v) if percent else num(v)}</text>')
    parts.append(f'<text x="{left}" y="{h - 6}" font-size="10" fill="#5b6475">{xs[0]}</text>'
                 f'<text x="{w - 8}" y="{h - 6}" font-size="10" text-anchor="end" fill="#5b6475">{xs[-1]}</text>')
    if band:
        pts = [(i, a, b) for i, (a, b) in enumerate(zip(*band, strict=True)) if a is not None and b is not None]
        if pts:
            poly = [f"{x(i):.1f},{y(b):.1f}" for i, _, b in pts] + [f"{x(i):.1f},{y(a):.1f}" for i, a, _ in reversed(pts)]
            parts.append(f'<polygon class="band" points="{" ".join(poly)}" fill="#1f5fbf" fill-opacity="0.12"/>')
    for k, (name, s) in enumerate(series.items()):
        pts = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s) if v is not None]
        color = _COLORS[k % len(_COLORS)]
        if len(pts) > 1:
            parts.append(f'<polyline class="series" points="{" ".join(pts)}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts += [f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="2.5" fill="{color}"/>' for p in pts]
    if marks:
        first = next(iter(series.values()))
        for i, (m, v) in enumerate(zip(marks, first, strict=True)):
            if m and v is not None:
                parts.append(f'<circle class="regression" cx="{x(i):.1f}" cy="{y(v):.1f}" r="6" fill="none" '
                             f'stroke="#b42318" stroke-width="2"><title>regression on {xs[i]}</title></circle>')
    legend = " · ".join(f'<span style="color:{_COLORS[k % len(_COLORS)]}">■</span> {esc(name)}'
                        for k, name in enumerate(series))
    parts.append("</svg>")
    return f'<figure class="chart"><figcaption>{esc(title)}</figcaption>{"".join(parts)}<div>{legend}</div></figure>'


def bar_chart(title: str, items: Sequence[tuple[str, float]]) -> str:
    """Horizontal bars (e.g. top tool paths)."""
    if not items:
        return _empty(title)
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
