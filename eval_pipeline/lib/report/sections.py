"""The parts of a day's page that answer "is the agent getting worse, and where?": what changed today (the
checks that did not pass with their figures and thresholds, the pass-rate regressions ranked by effect size,
and example records behind each), and the strata that moved most. Example records come from masked tables
only (eval_dataset, name-masked, and judge_scores)."""

import json
from collections.abc import Sequence
from typing import Any

from eval_pipeline.lib.check_results import CheckOutcome
from eval_pipeline.lib.drift import PassRateComparison
from eval_pipeline.lib.report.html import esc, num, pct, table

BADGE = ' <span class="bad">regression</span>'
MOVED_SHOWN = 10  # strata rows above the fold; the full table is in a <details>
_TEXT = 360  # characters of a request, response or rationale shown in an example
_WITH_EXAMPLES = 5  # regressions that get example records on the page


def check_key(o: CheckOutcome) -> str:
    """Where the examples of a check that did not pass are kept in ``DayReport.examples``."""
    return f"check:{o.asset}/{o.check}"


def regression_key(c: PassRateComparison) -> str:
    """Where the examples of a regression are kept in ``DayReport.examples``."""
    return f"regression:{c.where}"


def by_effect(regressions: Sequence[PassRateComparison]) -> list[PassRateComparison]:
    """Regressions, the largest drop first."""
    return sorted(regressions, key=lambda c: (c.comparison.difference, c.where))


# ---------------------------------------------------------------- what changed today


def what_changed(checks: Sequence[CheckOutcome], regressions: Sequence[PassRateComparison],
                 examples: dict[str, list[dict]], intervals: dict[tuple[str, str | None], tuple]) -> str:
    """The top of the day's page: the checks that did not pass (with their figures and example records), then
    the regressions by effect size (with intervals, the trailing baseline and example failing records)."""
    problems = [o for o in checks if not o.passed]
    failed = sum(o.status != "warning" for o in problems)
    warned = len(problems) - failed
    drops = by_effect(regressions)
    tone = "alarm" if failed or drops else "warn" if warned else "ok"
    out = [f'<section class="changes tone-{tone}" id="what-changed"><h2>What changed today</h2>',
           f'<p class="headline">{esc(_headline(checks, failed, warned, drops))}</p>']
    if problems:
        out.append("<h3>Checks that did not pass</h3>")
        out += [_check_finding(o, examples.get(check_key(o), [])) for o in problems]
    if drops:
        out += ["<h3>Regressions against the trailing 7 days, largest drop first</h3>",
                _regression_table(drops, intervals)]
        for c in drops[:_WITH_EXAMPLES]:
            rows = examples.get(regression_key(c), [])
            out.append(f'<div class="finding"><p>{esc(c.sentence)}</p>'
                       + (f"<p>Example records the judge failed:</p>{examples_table(rows)}" if rows else
                          "<p>No failed record of this judge to show.</p>") + "</div>")
    out.append("</section>")
    return "".join(out)


def _headline(checks: Sequence[CheckOutcome], failed: int, warned: int, drops: Sequence) -> str:
    if not checks:
        check_part = "No check outcomes were recorded for this day (its checks have not run)."
    elif failed or warned:
        bad = ([f"{failed} failed"] if failed else []) + ([f"{warned} gave a warning"] if warned else [])
        check_part = f"Of {len(checks)} checks, {' and '.join(bad)}."
    else:
        check_part = f"No failed checks: all {len(checks)} passed."
    if drops:
        judges = sorted({c.judge for c in drops})
        return f"{check_part} {len(drops)} pass-rate drop{'s' * (len(drops) != 1)} ({', '.join(judges)})."
    return f"{check_part} No judge's pass rate dropped against the trailing 7 days."


def _check_finding(o: CheckOutcome, rows: list[dict]) -> str:
    status = o.status
    out = [f'<div class="finding"><span class="tag {status.replace(" ", "-")}">{esc(status)}</span> '
           f"<b>{esc(o.check)}</b> on <code>{esc(o.asset)}</code>"]
    if o.description:
        out.append(f"<p>{esc(o.description)}</p>")
    figures = {k: v for k, v in o.figures.items() if not _said(v, o.description)}
    if figures:
        out.append(figures_table(figures))
    if rows:
        out.append(f"<p>Example records:</p>{examples_table(rows)}")
    out.append("</div>")
    return "".join(out)


def _said(v: Any, description: str | None) -> bool:
    """A list of sentences the description already holds (the check writes its findings in both)."""
    return bool(description) and isinstance(v, list) and bool(v) and all(str(e) in description for e in v)


def figures_table(figures: dict[str, Any]) -> str:
    """A check's figures as labelled values in a row that wraps; thresholds are marked as such."""
    chips = [f'<span class="fig{" limit" if _is_threshold(k) else ""}"><small>{esc(k.replace("_", " "))}'
             f'{" (threshold)" if _is_threshold(k) else ""}</small><b>{esc(figure(k, v))}</b></span>'
             for k, v in figures.items()]
    return f'<div class="figs">{"".join(chips)}</div>'


def _is_threshold(key: str) -> bool:
    return (key in ("alpha", "threshold", "tolerance") or key.startswith(("min_", "max_"))
            or key.endswith(("_jump", "_max", "_min", "_warn", "_error", "_tolerance", "_threshold")))


def figure(key: str, v: Any) -> str:
    """One figure for people: rates as percentages, jumps as factors, money and milliseconds with units."""
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float):
        if key.endswith("_jump"):
            return f"{v:g}x"
        if ("rate" in key or "share" in key) and not key.endswith("_max") and 0 <= v <= 1:
            return pct(v)
        if key.endswith("_usd"):
            return f"${v:,.6f}".rstrip("0").rstrip(".")
        if key.endswith("_ms"):
            return f"{num(v)} ms"
        return f"{v:,}" if isinstance(v, int) else f"{v:.4g}"
    if isinstance(v, list):
        shown = ", ".join(str(e) for e in v[:5]) or "none"
        return shown + (f" and {len(v) - 5} more" if len(v) > 5 else "")
    if isinstance(v, dict):
        return _short(", ".join(f"{k}: {figure(key, x)}" for k, x in v.items()))
    return _short(v if isinstance(v, str) else json.dumps(v))


def _short(text: str, most: int = _TEXT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= most else text[: most - 1] + "…"


def _regression_table(drops: Sequence[PassRateComparison], intervals: dict[tuple[str, str | None], tuple]) -> str:
    rows = []
    for c in drops:
        k = c.comparison
        lo, hi = intervals.get((c.judge, c.stratum), (None, None))
        rows.append([esc(c.judge), esc(c.stratum or "all traffic"), f"{pct(k.current)} ({pct(lo)} – {pct(hi)})",
                     pct(k.baseline), f"{k.difference:+.1%} ({k.ci_low:+.1%} to {k.ci_high:+.1%})",
                     p_value(k.p_value)])
    return table(["judge", "stratum", "today (95 % interval)", "trailing 7 days", "change (95 % interval)",
                  "one-sided p"], rows, {2, 3, 4, 5})


def p_value(p: float) -> str:
    return "< 0.0001" if p < 1e-4 else f"{p:.4f}"


def examples_table(rows: Sequence[dict]) -> str:
    """Example records: trace id, masked request and response, and why they count (the judge's rationale,
    the masked error). The trace id's tooltip is the query that finds the trace in the warehouse."""
    body = []
    for r in rows:
        sql = f"SELECT * FROM masked_traces WHERE trace_id = '{r['trace_id']}'"
        why = " · ".join(_short(x) for x in (r.get("error"), r.get("rationale")) if x)
        body.append([f'<code title="{esc(sql)}">{esc(r["trace_id"])}</code>', esc(r.get("stratum") or ""),
                     esc(_short(r.get("request") or "")), esc(_short(r.get("response") or "")), esc(why)])
    return table(["trace id", "stratum", "request (masked)", "response (masked)", "judge's rationale"],
                 body).replace("<table>", '<table class="examples">', 1)


# ---------------------------------------------------------------- strata


def strata_section(strata: Sequence[dict], compared: Sequence[PassRateComparison],
                   regressions: Sequence[PassRateComparison], min_effective_n: float | None) -> str:
    """The strata that moved most against the trailing 7 days (largest |z| first, among those the regression
    rule compares), then every row of the day in a collapsed section."""
    moved = sorted((c for c in compared if c.stratum is not None),
                   key=lambda c: (-abs(c.comparison.z), c.where))[:MOVED_SHOWN]
    dropped = {(r.judge, r.stratum) for r in regressions if r.stratum is not None}
    interval = {(s["judge"], s["stratum"]): s for s in strata}
    out = ["<h2>Strata that moved most</h2>"]
    if moved:
        rows = []
        for c in moved:
            k, s = c.comparison, interval.get((c.judge, c.stratum), {})
            rows.append([esc(c.judge), esc(c.stratum) + (BADGE if (c.judge, c.stratum) in dropped else ""),
                         f'{pct(k.current)} ({pct(s.get("ci_low"))} – {pct(s.get("ci_high"))})', pct(k.baseline),
                         f"{k.difference:+.1%} ({k.ci_low:+.1%} to {k.ci_high:+.1%})", num(s.get("judged"))])
        out.append('<div class="sub">Weighted pass rate per judge and stratum against the trailing 7 days, the '
                   "largest moves (by their z score, so a small stratum's noise does not rank first) on top.</div>")
        out.append(table(["judge", "stratum (tool path | status)", "today (95 % interval)", "trailing 7 days",
                          "change (95 % interval)", "judged"], rows, {2, 3, 4, 5}))
    else:
        need = f" (an effective n of {num(min_effective_n)} on both sides)" if min_effective_n else ""
        out.append(f"<p>No stratum had enough records today and over the trailing 7 days to compare{need}.</p>")
    srows = [[esc(s["judge"]), esc(s["stratum"]) + (BADGE if (s["judge"], s["stratum"]) in dropped else ""),
              pct(s["weighted_pass_rate"]), f'{pct(s["ci_low"])} – {pct(s["ci_high"])}', num(s["judged"]),
              num(s["unknown"])] for s in strata]
    out.append(f"<details><summary>Judges by stratum: all {len(srows)} rows</summary>"
               + table(["judge", "stratum (tool path | status)", "weighted pass rate", "95 % interval", "judged",
                        "unknown"], srows, {2, 4, 5}) + "</details>")
    return "".join(out)


def all_checks(checks: Sequence[CheckOutcome]) -> str:
    """Every check of the day with its outcome, collapsed."""
    if not checks:
        return ""
    rows = [[f'<span class="tag {o.status.replace(" ", "-")}">{esc(o.status)}</span>', esc(o.check),
             f"<code>{esc(o.asset)}</code>", esc(_short(o.description or ""))] for o in checks]
    return (f"<details><summary>Every check of the day: {len(checks)}</summary>"
            + table(["outcome", "check", "asset", "what it said"], rows) + "</details>")
