"""The rules of the drift and regression checks, each defined once: population stability index, a
one-sided two-proportion z-test on weighted rates (with Kish's effective sample sizes), the pass-rate
regression rule the check and the report share, and the traffic drift rule."""

import math
from collections.abc import Mapping
from dataclasses import dataclass

from eval_pipeline.lib.config import Monitoring

_EPS = 1e-4  # share given to a category absent on one side, so PSI stays finite


def psi(baseline: Mapping[str, float], current: Mapping[str, float]) -> float:
    """Population stability index between two mixes (counts or shares by category).

    Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
    """
    b_total = sum(baseline.values())
    c_total = sum(current.values())
    if b_total <= 0 or c_total <= 0:
        return 0.0
    out = 0.0
    for key in set(baseline) | set(current):
        b = max(baseline.get(key, 0.0) / b_total, _EPS)
        c = max(current.get(key, 0.0) / c_total, _EPS)
        out += (c - b) * math.log(c / b)
    return out


@dataclass(frozen=True)
class Comparison:
    current: float
    baseline: float
    difference: float
    ci_low: float  # 95 % interval of the difference
    ci_high: float
    z: float
    p_value: float  # one-sided: the current rate is lower than the baseline


def compare_rates(current: float, n_current: float, baseline: float, n_baseline: float) -> Comparison | None:
    """Current vs baseline proportion; None when either side has no data."""
    if n_current <= 0 or n_baseline <= 0:
        return None
    pooled = (current * n_current + baseline * n_baseline) / (n_current + n_baseline)
    se0 = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n_current + 1 / n_baseline))
    se = math.sqrt(max(current * (1 - current) / n_current + baseline * (1 - baseline) / n_baseline, 1e-12))
    diff = current - baseline
    z = diff / se0
    p = 0.5 * math.erfc(-z / math.sqrt(2))
    return Comparison(current, baseline, diff, diff - 1.96 * se, diff + 1.96 * se, z, p)


def describe(c: Comparison) -> str:
    return (f"{c.current:.1%} vs {c.baseline:.1%} over the trailing 7 days: {c.difference:+.1%} "
            f"(95 % interval {c.ci_low:+.1%} to {c.ci_high:+.1%}, one-sided p = {c.p_value:.4f})")


@dataclass(frozen=True)
class PassRateComparison:
    """One judge's weighted pass rate (``stratum`` None: overall) on a day against its trailing 7 days."""

    judge: str
    stratum: str | None
    comparison: Comparison
    regressed: bool

    @property
    def where(self) -> str:
        return self.judge if self.stratum is None else f"{self.judge} [{self.stratum}]"

    @property
    def sentence(self) -> str:
        return f"{self.where}: {describe(self.comparison)}"


def pass_rate_regressions(rows: list[tuple], *, alpha: float, min_baseline_days: int,
                          min_effective_n: float) -> tuple[list[str], list[PassRateComparison]]:
    """The regression rule, defined once: the check ``judge_pass_rate_no_regression`` and the daily report
    (its badges and chart marks) both call it on the same rows.

    ``rows`` are (judge, stratum, is_today, rate, n_eff, days) as sql/dashboards/judge_rates_baseline.sql
    returns them. A judge (overall or in a stratum) regressed when the one-sided two-proportion test of
    today's weighted rate against the trailing 7 days gives p < ``alpha``. Per-judge rows are compared
    whenever the baseline spans ``min_baseline_days``; per-stratum rows only when both sides also reach
    ``min_effective_n``. Returns (the drops as sentences, every comparison made).
    """
    groups: dict[tuple[str, str | None], dict[bool, tuple[float, float, int]]] = {}
    for judge, stratum, is_today, rate, n_eff, days in rows:
        groups.setdefault((judge, stratum), {})[bool(is_today)] = (rate, n_eff, days)
    compared = []
    for (judge, stratum), sides in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        if True not in sides or False not in sides:
            continue
        (rate, n, _), (base, n_base, base_days) = sides[True], sides[False]
        if base_days < min_baseline_days or (stratum is not None and min(n, n_base) < min_effective_n):
            continue
        c = compare_rates(rate, n, base, n_base)
        if c is not None:
            compared.append(PassRateComparison(judge, stratum, c, c.p_value < alpha))
    return [c.sentence for c in compared if c.regressed], compared


@dataclass(frozen=True)
class TrafficDrift:
    tool_path_psi: float
    errors: list[str]  # shifts worth an error
    warnings: list[str]  # moves worth a warning


def traffic_drift(today: Mapping[str, float], trailing: Mapping[str, float],
                  figures: Mapping[str, float | None], m: Monitoring) -> TrafficDrift:
    """Today's traffic against the trailing days: the tool-path mix (traces per path, both sides) by PSI,
    and the jumps of ``figures`` (the columns of sql/dashboards/traffic_baseline.sql: ``error_rate``,
    ``latency_p95_ms``, ``cost_per_trace``, each with its ``*_baseline`` mean) against their limits."""
    index = psi(trailing, today)
    errors, warnings = [], []
    if index > m.psi_error:
        errors.append(f"tool-path mix shifted: PSI {index:.3f} > {m.psi_error}")
    elif index > m.psi_warn:
        warnings.append(f"tool-path mix moved: PSI {index:.3f} > {m.psi_warn}")
    err, err_base = figures["error_rate"], figures["error_rate_baseline"]
    p95, p95_base = figures["latency_p95_ms"], figures["latency_p95_baseline"]
    cost, cost_base = figures["cost_per_trace"], figures["cost_per_trace_baseline"]
    if err is not None and err_base and err > m.error_rate_jump * err_base:
        warnings.append(f"error rate {err:.1%} is over {m.error_rate_jump}x the trailing {err_base:.1%}")
    if p95 is not None and p95_base and p95 > m.latency_p95_jump * p95_base:
        warnings.append(f"latency p95 {p95:,.0f} ms is over {m.latency_p95_jump}x the trailing {p95_base:,.0f} ms")
    if cost is not None and cost_base and cost > m.cost_per_record_jump * cost_base:
        warnings.append(f"agent LLM cost per trace ${cost:.5f} is over {m.cost_per_record_jump}x the trailing "
                        f"${cost_base:.5f}")
    return TrafficDrift(index, errors, warnings)
