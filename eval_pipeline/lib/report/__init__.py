"""Self-contained HTML reports: one page per day and an index of all days, charts as inline SVG, no script and no
network needed to open them (html.py: building blocks; charts.py: SVG charts; sections.py: what changed today,
the strata that moved most; pages.py: the pages; inputs.py: what a day's report reads from the warehouse,
imported on its own so the rendering needs no warehouse)."""

from eval_pipeline.lib.report.charts import bar_chart, line_chart
from eval_pipeline.lib.report.html import pct
from eval_pipeline.lib.report.pages import DayReport, render_day, render_index, write_report

__all__ = ["DayReport", "bar_chart", "line_chart", "pct", "render_day", "render_index", "write_report"]
