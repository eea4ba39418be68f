"""Small statistics for drift and regression checks: population stability index and a one-sided
two-proportion z-test on weighted rates (with Kish's effective sample sizes)."""

import math
from collections.abc import Mapping
from dataclasses import dataclass

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


def pass_rate_regressions(rows: list[tuple], *, alpha: float, min_baseline_days: int,
                          min_effective_n: float) -> tuple[list[str], list[str]]:
    """Significant drops among rows of (judge, stratum, is_today, rate, n_eff, days), as written by
    sql/dashboards/judge_rates_baseline.sql. Returns (drops, markdown table rows of all comparisons).

    Per-judge rows (stratum None) are compared whenever the baseline spans enough days; per-stratum
    rows only when both sides reach ``min_effective_n``.
    """
    groups: dict[tuple[str, str | None], dict[bool, tuple[float, float, int]]] = {}
    for judge, stratum, is_today, rate, n_eff, days in rows:
        groups.setdefault((judge, stratum), {})[bool(is_today)] = (rate, n_eff, days)
    drops, compared = [], []
    for (judge, stratum), sides in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        if True not in sides or False not in sides:
            continue
        (rate, n, _), (base, n_base, base_days) = sides[True], sides[False]
        if base_days < min_baseline_days or (stratum is not None and min(n, n_base) < min_effective_n):
            continue
        c = compare_rates(rate, n, base, n_base)
        if c is None:
            continue
        where = judge if stratum is None else f"{judge} [{stratum}]"
        compared.append(f"| {where} | {describe(c)} |")
        if c.p_value < alpha:
            drops.append(f"{where}: {describe(c)}")
    return drops, compared
