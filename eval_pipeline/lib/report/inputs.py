"""What the report of a day reads: the dashboard tables, the day's check outcomes (``check_results``), the
regressions by the one rule (``dashboards.judge_regressions``), and example records behind each finding,
from masked tables only (eval_dataset, name-masked, and judge_scores; never raw_traces)."""

import datetime as dt
import json
from collections.abc import Sequence

import duckdb

from eval_pipeline.lib import check_results, dashboard_checks
from eval_pipeline.lib.check_results import CheckOutcome
from eval_pipeline.lib.config import Monitoring
from eval_pipeline.lib.dashboards import judge_regressions, query_rows
from eval_pipeline.lib.drift import PassRateComparison
from eval_pipeline.lib.judging.verdict import NO_ANSWER
from eval_pipeline.lib.report import sections
from eval_pipeline.lib.report.pages import DayReport

EXAMPLES = 3  # example records per finding


def report_inputs(con: duckdb.DuckDBPyConnection, day: dt.date, m: Monitoring) -> DayReport:
    """Everything the report of ``day`` shows. Regressions, today's and the 30-day chart's marks alike, come
    from ``judge_regressions``: the check's rule on the check's rows."""
    metrics = query_rows(con, "dashboards/daily_metrics_day", {"day": day})
    for r in metrics:
        r["top_tool_paths"] = json.loads(r["top_tool_paths"] or "[]")
    judges = query_rows(con, "dashboards/daily_judge_results_day", {"day": day})
    for j in judges:
        j["unknown_reasons"] = dict(j["unknown_reasons"] or [])
    trend = query_rows(con, "dashboards/judge_trend", {"day": day})
    _, compared = judge_regressions(con, day, m)
    drops = {d: [c for c in judge_regressions(con, d, m)[1] if c.regressed]
             for d in {r["trace_date"] for r in trend} - {day}}
    drops[day] = [c for c in compared if c.regressed]
    for r in trend:
        r["regression"] = any(c.judge == r["judge"] for c in drops[r["trace_date"]])
    checks = check_results.day_outcomes(con, day)
    return DayReport(
        day=day, metrics=metrics[0] if metrics else None, judges=judges,
        strata=query_rows(con, "dashboards/daily_judge_strata_day", {"day": day}),
        traffic_trend=query_rows(con, "dashboards/traffic_trend", {"day": day}), judge_trend=trend,
        agreement=query_rows(con, "dashboards/judge_agreement_day", {"day": day}), regressions=drops[day],
        days=query_rows(con, "dashboards/report_days", {}), checks=checks, compared=compared,
        examples=examples(con, day, drops[day], checks),
        judge_history=query_rows(con, "dashboards/judge_history", {}),
        check_status=check_results.status_by_day(con), min_effective_n=m.min_effective_n,
    )


def examples(con: duckdb.DuckDBPyConnection, day: dt.date, regressions: Sequence[PassRateComparison],
             checks: Sequence[CheckOutcome]) -> dict[str, list[dict]]:
    """A few records behind each finding of the day, heaviest first: the records a regressed judge failed (in
    its stratum), the error records of a traffic check whose error rate went up, the unanswered calls of a
    judge that stopped answering."""
    out: dict[str, list[dict]] = {}
    shown: dict[str, set[str]] = {}  # per judge: records already shown for a larger drop
    for c in sections.by_effect(regressions):
        seen = shown.setdefault(c.judge, set())
        rows = query_rows(con, "dashboards/report_examples_judge_failures", {
            "day": day, "judge": c.judge, "stratum": c.stratum, "limit": EXAMPLES + len(seen)})
        rows = [r for r in rows if r["trace_id"] not in seen][:EXAMPLES] or rows[:EXAMPLES]
        seen |= {r["trace_id"] for r in rows}
        out[sections.regression_key(c)] = rows
    for o in checks:
        rows = _check_examples(con, day, o) if o.passed is False else []
        if rows:
            out[sections.check_key(o)] = rows
    return out


def _check_examples(con: duckdb.DuckDBPyConnection, day: dt.date, o: CheckOutcome) -> list[dict]:
    f = o.figures
    if o.check == dashboard_checks.TRAFFIC and (f.get("error_rate") or 0) > (f.get("error_rate_baseline") or 0):
        return query_rows(con, "dashboards/report_examples_error_traces", {"day": day, "limit": EXAMPLES})
    if o.check == dashboard_checks.JUDGES_ANSWER and f.get("judges_not_answering"):
        return query_rows(con, "dashboards/report_examples_unknowns", {
            "day": day, "judges": f["judges_not_answering"], "reasons": list(NO_ANSWER), "limit": EXAMPLES})
    return []
