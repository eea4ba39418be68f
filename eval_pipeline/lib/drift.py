"""The rules of the drift and regression checks, each defined once, each with a known false-alarm rate.

* Mix shifts (``mix_shift``: the stratum mix of the eval dataset, the tool-path mix of the traffic): the
  population's counts (never the sample's) of today and of the trailing days, on populated bins (sparse
  categories pooled by the strata merge rule until each bin holds ``min_count`` of today's traces at the
  pooled mix), smoothed (half a trace per bin added to both sides, spread by the pooled mix). A shift is
  reported when its population stability index (PSI) passes the threshold AND the chi-square test of
  equal mixes gives p < alpha: on steady traffic PSI alone grows with the number of bins and shrinks with
  the traffic, the test keeps the false-alarm rate at alpha or less whatever the day's size. The alarm
  names the bins that moved most.
* Pass-rate regressions (``pass_rate_regressions``, the one rule the check and the report share): a
  one-sided two-proportion z-test (continuity-corrected) of today's weighted rate against the trailing 7
  days at the design-based effective sizes (lib/stats: n* = p (1 - p) / variance), with Holm's correction
  over all the comparisons of the day, so that a steady day raises a false alarm with probability alpha at
  most (monitoring.alpha, 0.001 by default: one false alarm in about three years of steady days).
* Traffic figures (``traffic_drift``): the error rate counts as a jump only above ``error_rate_jump`` times
  the trailing rate and significantly so (one-sided test at alpha); latency p95 and cost per trace by their
  configured ratios.
"""

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from eval_pipeline.lib import strata
from eval_pipeline.lib.config import Monitoring

_EPS = 1e-4  # share given to a category absent on one side, so PSI stays finite
_SMOOTHING = 0.5  # traces per bin added to both sides of a mix comparison


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
class MixShift:
    """Today's mix against the trailing days' on populated, smoothed bins."""

    psi: float
    p_value: float  # chi-square test of equal mixes
    bins: int
    # (bin, trailing share, today's share), the bins that moved most first
    movers: list[tuple[str, float, float]] = field(default_factory=list)

    def level(self, warn: float, error: float, alpha: float) -> str | None:
        """'error' or 'warn' when PSI passes that threshold and the shift is significant; else None."""
        if self.p_value >= alpha:
            return None
        return "error" if self.psi > error else "warn" if self.psi > warn else None

    def sentence(self, what: str, limit: float) -> str:
        moved = ", ".join(f"{b} {before:.1%} -> {now:.1%}" for b, before, now in self.movers[:3])
        return (f"{what}: PSI {self.psi:.3f} > {limit} over {self.bins} bins (chi-square p = "
                f"{self.p_value:.2g}); moved most: {moved}")


def mix_shift(trailing: Mapping[Hashable, float], today: Mapping[Hashable, float], *, min_count: float,
              order: Sequence[int] = strata.MERGE_ORDER,
              label: Callable[[tuple], str] = strata.name) -> MixShift:
    """Compare two mixes of traffic counts by category: tuples of the strata dimensions (merged in
    ``order``), or plain strings (pass ``order=(0,)``: rare ones pool into one bin)."""
    def key(k: Hashable) -> tuple:
        return k if isinstance(k, tuple) else (k,)

    before = {key(k): float(v) for k, v in trailing.items() if v > 0}
    now = {key(k): float(v) for k, v in today.items() if v > 0}
    b_total, c_total = sum(before.values()), sum(now.values())
    if b_total <= 0 or c_total <= 0:
        return MixShift(0.0, 1.0, 0)
    sizes = {k: (before.get(k, 0.0) + now.get(k, 0.0)) / (b_total + c_total) * c_total for k in before | now}
    binned_b: dict[tuple, float] = {}
    binned_c: dict[tuple, float] = {}
    for cell, bin_key in strata.merge(sizes, min_count, order).items():
        binned_b[bin_key] = binned_b.get(bin_key, 0.0) + before.get(cell, 0.0)
        binned_c[bin_key] = binned_c.get(bin_key, 0.0) + now.get(cell, 0.0)
    bins = sorted(binned_b)
    # Each side gets half a trace per bin, spread by the pooled mix: an empty bin stays finite and two
    # equal mixes stay equal (PSI 0).
    pooled = [(binned_b[k] + binned_c[k]) / (b_total + c_total) for k in bins]
    b = [binned_b[k] + _SMOOTHING * len(bins) * s for k, s in zip(bins, pooled, strict=True)]
    c = [binned_c[k] + _SMOOTHING * len(bins) * s for k, s in zip(bins, pooled, strict=True)]
    sb, sc = sum(b), sum(c)
    terms = [(cc / sc - bb / sb) * math.log((cc / sc) / (bb / sb)) for bb, cc in zip(b, c, strict=True)]
    movers = sorted(zip(terms, bins, b, c, strict=True), reverse=True)
    return MixShift(sum(terms), _homogeneity_p(binned_b, binned_c, bins), len(bins),
                    [(label(k), bb / sb, cc / sc) for _, k, bb, cc in movers])


def _homogeneity_p(before: Mapping[tuple, float], now: Mapping[tuple, float], bins: list[tuple]) -> float:
    """p-value of Pearson's chi-square test that two count vectors come from one mix."""
    if len(bins) < 2:
        return 1.0
    b_total, c_total = sum(before.values()), sum(now.values())
    total = b_total + c_total
    stat = 0.0
    for k in bins:
        pooled = (before[k] + now[k]) / total
        for observed, n in ((before[k], b_total), (now[k], c_total)):
            expected = pooled * n
            if expected > 0:
                stat += (observed - expected) ** 2 / expected
    return chi2_sf(stat, len(bins) - 1)


def chi2_sf(x: float, df: int) -> float:
    """P(X > x) for a chi-square variable with ``df`` degrees of freedom: exact for 1 and 2, else the
    Wilson-Hilferty approximation (within a few percent of the exact tail down to p = 1e-4)."""
    if x <= 0:
        return 1.0
    if df == 1:
        return math.erfc(math.sqrt(x / 2))
    if df == 2:
        return math.exp(-x / 2)
    a = 2 / (9 * df)
    z = ((x / df) ** (1 / 3) - (1 - a)) / math.sqrt(a)
    return 0.5 * math.erfc(z / math.sqrt(2))


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
    """Current vs baseline proportion (one-sided z-test with Yates' continuity correction, which keeps the
    false-alarm rate near its nominal level when a rate near 0 or 1 rests on few records); None when either
    side has no data."""
    if n_current <= 0 or n_baseline <= 0:
        return None
    pooled = (current * n_current + baseline * n_baseline) / (n_current + n_baseline)
    se0 = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n_current + 1 / n_baseline))
    se = math.sqrt(max(current * (1 - current) / n_current + baseline * (1 - baseline) / n_baseline, 1e-12))
    diff = current - baseline
    z = (diff + 0.5 * (1 / n_current + 1 / n_baseline)) / se0
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

    ``rows`` are (judge, stratum, is_today, rate, n_eff, days) as lib.estimates.rate_rows returns them
    (``n_eff``: the design-based effective size of the weighted rate). A judge (overall or in a stratum)
    regressed when the one-sided two-proportion test of today's weighted rate against the trailing 7 days
    rejects at ``alpha`` after Holm's correction over every comparison of the day: on a steady day the
    chance of any false alarm is at most ``alpha``. Per-judge rows are compared whenever the baseline spans
    ``min_baseline_days``; per-stratum rows only when both sides also reach ``min_effective_n``. Returns
    (the drops as sentences, every comparison made).
    """
    groups: dict[tuple[str, str | None], dict[bool, tuple[float, float, int]]] = {}
    for judge, stratum, is_today, rate, n_eff, days in rows:
        groups.setdefault((judge, stratum), {})[bool(is_today)] = (rate, n_eff, days)
    made = []
    for (judge, stratum), sides in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        if True not in sides or False not in sides:
            continue
        (rate, n, _), (base, n_base, base_days) = sides[True], sides[False]
        if base_days < min_baseline_days or (stratum is not None and min(n, n_base) < min_effective_n):
            continue
        c = compare_rates(rate, n, base, n_base)
        if c is not None:
            made.append((judge, stratum, c))
    rejected = holm([c.p_value for _, _, c in made], alpha)
    compared = [PassRateComparison(j, s, c, r) for (j, s, c), r in zip(made, rejected, strict=True)]
    return [c.sentence for c in compared if c.regressed], compared


def holm(p_values: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down rejections: the family-wise error rate stays at most ``alpha``."""
    rejected = [False] * len(p_values)
    for rank, i in enumerate(sorted(range(len(p_values)), key=lambda i: p_values[i])):
        if p_values[i] >= alpha / (len(p_values) - rank):
            break
        rejected[i] = True
    return rejected


@dataclass(frozen=True)
class TrafficDrift:
    tool_path_psi: float
    errors: list[str]  # shifts worth an error
    warnings: list[str]  # moves worth a warning
    tool_path_p_value: float = 1.0


def _jumped(today: float, n_today: float | None, base: float, n_base: float | None, alpha: float) -> bool:
    """Whether ``today`` is significantly above ``base`` (one-sided); True when the counts are unknown."""
    if not n_today or not n_base:
        return True
    c = compare_rates(base, float(n_base), today, float(n_today))
    return c is not None and c.p_value < alpha


def traffic_drift(today: Mapping[str, float], trailing: Mapping[str, float],
                  figures: Mapping[str, float | None], m: Monitoring) -> TrafficDrift:
    """Today's traffic against the trailing days: the tool-path mix (traces per path, both sides) by
    ``mix_shift``, and the jumps of ``figures`` (the columns of sql/dashboards/traffic_baseline.sql:
    ``error_rate``, ``latency_p95_ms``, ``cost_per_trace``, each with its ``*_baseline``; ``traces`` and
    ``baseline_traces``, when given, make the error-rate jump a significance test too) against their limits."""
    shift = mix_shift(trailing, today, min_count=m.min_bin_traces, order=(0,),
                      label=lambda k: k[0])
    errors, warnings = [], []
    level = shift.level(m.psi_warn, m.psi_error, m.alpha)
    if level == "error":
        errors.append(shift.sentence("tool-path mix shifted", m.psi_error))
    elif level == "warn":
        warnings.append(shift.sentence("tool-path mix moved", m.psi_warn))
    err, err_base = figures["error_rate"], figures["error_rate_baseline"]
    p95, p95_base = figures["latency_p95_ms"], figures["latency_p95_baseline"]
    cost, cost_base = figures["cost_per_trace"], figures["cost_per_trace_baseline"]
    if err is not None and err_base and err > m.error_rate_jump * err_base \
            and _jumped(err, figures.get("traces"), err_base, figures.get("baseline_traces"), m.alpha):
        warnings.append(f"error rate {err:.1%} is over {m.error_rate_jump}x the trailing {err_base:.1%}")
    if p95 is not None and p95_base and p95 > m.latency_p95_jump * p95_base:
        warnings.append(f"latency p95 {p95:,.0f} ms is over {m.latency_p95_jump}x the trailing {p95_base:,.0f} ms")
    if cost is not None and cost_base and cost > m.cost_per_record_jump * cost_base:
        warnings.append(f"agent LLM cost per trace ${cost:.5f} is over {m.cost_per_record_jump}x the trailing "
                        f"${cost_base:.5f}")
    return TrafficDrift(shift.psi, errors, warnings, shift.p_value)
