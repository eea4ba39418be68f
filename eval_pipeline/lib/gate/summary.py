"""The gate's summary for a terminal or a CI log: the figures, then the verdict as the last line
(``GATE PASSED`` / ``GATE FAILED`` / ``GATE ERROR`` and why)."""

import statistics

from eval_pipeline.lib import stats
from eval_pipeline.lib.gate.compare import points
from eval_pipeline.lib.gate.run import GateRun


def pct(e: stats.Estimate | None) -> str:
    return "n/a" if e is None else f"{e.value:.1%}"


def interval(e: stats.Estimate | None, as_points: bool = False) -> str:
    if e is None:
        return "n/a"
    if as_points:
        return f"{points(e.low)} to {points(e.high)}"
    return f"{e.low:.1%} to {e.high:.1%}"


def summary_lines(run: GateRun) -> list[str]:
    """The summary of ``run``; the last line is the verdict."""
    inputs = run.inputs
    lines = [f"Release gate {run.gate_id}: candidate {run.candidate.label()} ({run.candidate.kind} "
             f"{run.candidate.target}) against production",
             f"  dev-eval dataset {inputs.dataset_version} ({inputs.window_start}..{inputs.window_end}): "
             f"{len(inputs.production)} production records, {len(inputs.curated)} curated; margin "
             f"{run.margin * 100:.1f} points; judge model {run.judge_model or 'none'}"]
    if inputs.problems:
        lines.append(f"  curated: {len(inputs.problems)} line(s) could not be read (see the quarantine table)")
    if run.calls is not None:
        latencies = [r.latency_ms for r in run.calls.responses if r.error_kind is None and r.latency_ms is not None]
        median = f", median latency {statistics.median(latencies):.0f} ms" if latencies else ""
        kinds = sorted({r.error_kind or "" for r in run.calls.failed})
        failed = f" ({', '.join(kinds)})" if kinds else ""
        lines.append(f"  candidate: {len(run.calls.responses)} requests, {len(run.calls.failed)} failed{failed}"
                     f"{median}")
    if run.comparisons:
        lines.append(f"  {'judge':<22}{'production':>11}{'candidate':>11}{'difference':>12}  "
                     f"{'95 % interval (points)':<24}{'n':>6}{'unknown':>9}  verdict")
        for c in run.comparisons:
            d = c.difference
            lines.append(f"  {c.judge:<22}{pct(c.production):>11}{pct(c.candidate):>11}"
                         f"{points(d.value) if d else 'n/a':>12}  {interval(d, True):<24}{d.n if d else 0:>6}"
                         f"{c.candidate_unknown:>9}  {c.verdict.upper() if c.verdict != 'pass' else 'pass'}")
    if run.pairwise is not None:
        rates = run.pairwise.rates
        agreement = run.pairwise.order_agreement
        lines.append("  pairwise: " + ", ".join(f"{kind} {pct(rates[kind])} ({interval(rates[kind])})"
                                                  for kind in ("win", "tie", "loss"))
                     + ("" if agreement is None else f"; the two orders agreed on {agreement:.0%}"))
    if inputs.curated and run.verdict != "error":
        must = sum(r.must_pass for r in inputs.curated)
        failed_ids = sorted({f.record_id for f in run.must_pass_failures})
        lines.append(f"  curated: {len(inputs.curated)} records; must-pass: {must - len(failed_ids)} of {must} passed"
                     + (f" (failed: {', '.join(failed_ids)})" if failed_ids else ""))
    if run.report:
        lines.append(f"  report: {run.report}")
    lines.extend(f"  - {r}" for r in run.reasons[1:])
    lines.append(verdict_line(run))
    return lines


def verdict_line(run: GateRun) -> str:
    if run.verdict == "pass":
        n = min((c.difference.n for c in run.comparisons if c.difference), default=0)
        return (f"GATE PASSED: no gating judge ({', '.join(run.judges)}) lost more than {run.margin * 100:.1f} "
                f"points at 95 % confidence, on {n} records.")
    head = run.reasons[0].rstrip(".") if run.reasons else "the gate did not pass"
    more = f" (and {len(run.reasons) - 1} more above)" if len(run.reasons) > 1 else ""
    return f"GATE {'FAILED' if run.verdict == 'fail' else 'ERROR'}: {head}{more}."
