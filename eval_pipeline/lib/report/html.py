"""The HTML building blocks of the reports: the stylesheet, escaping, number formats, tables and the page."""

import html
from collections.abc import Sequence
from typing import Any

CSS = """
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
a{color:#1f5fbf}code{font-size:12px;background:#eef1f5;padding:1px 4px;border-radius:4px;word-break:break-all}
h3{font-size:15px;margin:18px 0 6px}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px;color:#344054;margin-top:2px}
.key i{display:inline-block;width:14px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.key i.ring{width:9px;height:9px;border:2px solid;border-radius:50%;background:none}
.changes{background:#fff;border:1px solid #dde1e8;border-left:5px solid #15803d;border-radius:8px;padding:4px 16px 12px;margin:14px 0}
.changes.tone-alarm{border-left-color:#b42318}.changes.tone-warn{border-left-color:#d97706}
.changes h2{margin-top:12px}.headline{font-size:15px;font-weight:600}
.tone-ok .headline{color:#15803d}.tone-warn .headline{color:#b45309}.tone-alarm .headline{color:#b42318}
.finding{border:1px solid #dde1e8;border-radius:8px;padding:8px 12px;margin:10px 0;background:#fcfcfd}
.finding p{margin:4px 0}
.tag{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;border-radius:4px;padding:1px 6px;color:#fff}
.tag.failed,.tag.no-result{background:#b42318}.tag.warning{background:#b45309}.tag.passed{background:#15803d}
.figs{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0}
.fig{border:1px solid #dde1e8;border-radius:6px;padding:2px 8px;background:#fff}
.fig small{display:block;color:#5b6475;font-size:11px}.fig b{font-variant-numeric:tabular-nums}
.fig.limit{background:#f2f4f7;border-style:dashed}
td a{white-space:nowrap}
.examples td{vertical-align:top;max-width:320px;overflow-wrap:anywhere}
.ok{color:#15803d;font-weight:600}.warn{color:#b45309;font-weight:600}
details{margin:10px 0}summary{cursor:pointer;font-weight:600}
"""


def esc(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1%}"


def num(v: float | None, digits: int = 0) -> str:
    return "n/a" if v is None else f"{v:,.{digits}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int] | None = None) -> str:
    """An HTML table of cells already escaped or formatted; ``numeric`` columns are right-aligned."""
    numeric = numeric or set()
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td{" class=n" if i in numeric else ""}>{c}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>{body}</main></body></html>")
