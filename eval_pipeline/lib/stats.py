"""Design-based estimates of judge pass rates from a Poisson sample of production traces.

Every estimate comes with a 95 % interval that holds for the way the eval dataset is drawn: Poisson
sampling with unequal inclusion probabilities pi_i (stratified, errors oversampled), and optionally
clusters of records that were drawn together (all traces of one duplicate request).

Records and weights
    Each record i carries a weight w_i (normally 1 / pi_i: the traces it stands for) and an outcome
    y_i in {1 (pass), 0 (fail), unknown}. Unknown outcomes (None, NaN, 'unknown') are left out of
    numerator and denominator and counted in ``Estimate.left_out``; they are never a pass. Give one
    record per trace: a duplicate's own verdict (reused from the judge cache where the judge's input is
    identical), not its representative's. A collapsed dataset record (weight = duplicate_count / pi,
    one trace's outcome standing for its group) is still unbiased, but one verdict then carries up to
    a quarter of a day's weight, and no interval built from that day covers reliably.

Draws the intervals hold for (bench/stats_coverage.py measures each)
    * traces drawn one by one (each its own Poisson draw at its stratum's probability, weight 1/pi;
      duplicates collapsed after the draw for the dataset and the judge calls): no clusters needed;
    * requests drawn whole (every trace of a drawn request in the estimate, ``clusters`` = request),
      when a request's probability grows with its traffic, e.g. 1 - prod(1 - pi_i) over its traces.
    With one draw per request at its representative's stratum probability (the selection before
    issue 11), a request repeated by 4 % of the day is drawn on about one day in five with up to a
    quarter of the weight, and on the other days nothing in the sample tells how far its traces differ from the
    rest: intervals then undercover whatever the variance formula.

Rate (``weighted_rate``): the ratio (Hajek) estimator
    p = sum_i w_i y_i / sum_i w_i                               over records with a known outcome.

Variance: Taylor linearisation of the ratio. With z_i = w_i (y_i - p) / sum_i w_i and z_g the sum of
    z_i over cluster g (each record is its own cluster when no clusters are given), m clusters,
    v = m / (m - 1) * sum_g (1 - pi_g) z_g^2
    where (1 - pi_g) is the Poisson sampling finite-population factor when ``pi`` is given (pi_g is the
    cluster's inclusion probability, equal for all its records) and 1 otherwise (the with-replacement
    approximation, conservative). Poisson sampling draws units independently, so the variance of a
    total is the sum of the units' variances: strata need no separate term, and a domain (one stratum,
    one status) is estimated by a call on its records alone. m / (m - 1) is the usual small-sample
    correction for the residuals' fit to p. se = sqrt(v).

Interval: Wilson's score interval at the design-effect-adjusted sample size, with a t quantile
    (Korn & Graubard 1998; Dean & Pagano 2015):
    n* = p (1 - p) / v, with ``pi`` at most sum 1 / pi (the traces the records stand for); n* may
    exceed the number of records n where stratification makes the design better than simple random
    sampling (e.g. a code judge whose verdict follows the error status the strata are cut by). Where
    v = 0 (p is 0 or 1, or every unit was certain) n* is Kish's n_eff = (sum w)^2 / sum w^2 (at most
    n). Estimates and intervals do not change when all weights are multiplied by one factor.
    t = the 97.5 % quantile of Student's t with m - 1 degrees of freedom (at least 1), and
    [low, high] = (p + t^2 / 2n* -+ t sqrt(p (1 - p) / n* + t^2 / 4n*^2)) / (1 + t^2 / n*).
    The interval stays inside [0, 1], has positive width at p = 0 or 1 and at tiny n, and with equal
    weights and no clusters is Wilson's interval at n - 1 with t on n - 1 degrees of freedom.
    Assumptions: inclusion is independent between clusters (Poisson sampling; the dataset's per-stratum
    minimum makes it only nearly so) and the weights are the inverse inclusion probabilities.

Paired difference (``paired_difference``): for records judged for production and for a candidate,
    d_i = y_cand_i - y_prod_i and D = sum w_i d_i / sum w_i estimates (candidate - production) on
    production traffic. The variance is the same linearisation with d in place of y, so it is paired:
    only discordant pairs add to it. Interval: Agresti & Min's (2005) adjusted Wald interval for
    matched pairs (add 1/2 to each of the four cells) at the effective size n* = s^2 / v, with
    s^2 = sum w (d - D)^2 / sum w (Kish's n_eff where v = 0; capped as above), the t quantile above, and
    clipped to [-1, 1]:
    b = P(cand pass, prod fail), c = P(cand fail, prod pass) (weighted), b' = (n* b + 1/2) / (n* + 2),
    c' likewise, centre b' - c', se' = sqrt((b' + c' - (b' - c')^2) / (n* + 2)).
    Unknowns: a pair whose production verdict is unknown is left out (and counted); a candidate
    unknown counts as a fail by default (``unknown_candidate="fail"``, so a candidate cannot improve
    its score by abstaining) or leaves the pair out (``"exclude"``).

Release gate (``gate_passes``): passes when every gating judge's interval has low > -margin.

Outcome rates (``outcome_rates``): win / tie / loss shares of a pairwise judge; each is a
    ``weighted_rate`` of its indicator, unknown outcomes left out of all three.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

CONFIDENCE = 0.95
_Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
_PASS = {"pass": 1.0, "fail": 0.0, "unknown": math.nan}
_PAIRWISE = ("win", "tie", "loss")
_UNKNOWN_CANDIDATE = ("fail", "exclude")


@dataclass(frozen=True)
class Estimate:
    """A weighted estimate with its 95 % interval.

    ``n``: records (or pairs) that entered the estimate; ``left_out``: records left out because an
    outcome was unknown; ``n_eff``: the effective sample size the interval used; ``se``: the
    linearisation standard error of ``value``.
    """

    value: float
    low: float
    high: float
    n: int
    n_eff: float
    se: float
    left_out: int = 0


def weighted_rate(y: Iterable, weights: Iterable[float], *, clusters: Iterable | None = None,
                  pi: Iterable[float] | None = None) -> Estimate | None:
    """The weighted pass rate of ``y`` (1/0/True/False/'pass'/'fail', unknown: None/NaN/'unknown').

    ``weights`` are per record (1 / inclusion probability per trace); ``clusters`` labels records drawn
    together (e.g. a duplicate group's request key); ``pi`` gives each record's inclusion probability
    (its cluster's, with clusters) for the finite-population factor. None when no outcome is known.
    """
    values = _outcomes(y, "y")
    return _rate(values, *_design(weights, clusters, pi, len(values), "weighted_rate"))


def paired_difference(prod: Iterable, cand: Iterable, weights: Iterable[float], *,
                      clusters: Iterable | None = None, pi: Iterable[float] | None = None,
                      unknown_candidate: str = "fail") -> Estimate | None:
    """The weighted difference in pass rate, candidate minus production, on the same records.

    A pair with an unknown production verdict is left out (counted in ``left_out``); a candidate
    unknown is a fail (``unknown_candidate="fail"``, the default) or leaves the pair out
    (``"exclude"``). None when no pair is left.
    """
    if unknown_candidate not in _UNKNOWN_CANDIDATE:
        msg = f"unknown_candidate must be 'fail' or 'exclude', got {unknown_candidate!r}."
        raise ValueError(msg)
    y_prod, y_cand = _outcomes(prod, "prod"), _outcomes(cand, "cand")
    if len(y_prod) != len(y_cand):
        msg = f"prod has {len(y_prod)} verdicts and cand {len(y_cand)}; give one of each per record."
        raise ValueError(msg)
    w, codes, p_incl = _design(weights, clusters, pi, len(y_prod), "paired_difference")
    if unknown_candidate == "fail":
        y_cand = np.where(np.isnan(y_cand), 0.0, y_cand)
    keep = ~np.isnan(y_prod) & ~np.isnan(y_cand)
    n = int(keep.sum())
    if n == 0:
        return None
    d = y_cand[keep] - y_prod[keep]
    w, codes, p_incl = _subset(keep, w, codes, p_incl)
    value, var, m = _linearised(d, w, codes, p_incl)
    spread = float(np.dot(w, (d - value) ** 2) / w.sum())
    n_eff = _effective_n(spread, var, w, p_incl)
    b = float(w[d > 0].sum() / w.sum())
    c = float(w[d < 0].sum() / w.sum())
    b_adj, c_adj = (n_eff * b + 0.5) / (n_eff + 2), (n_eff * c + 0.5) / (n_eff + 2)
    centre = b_adj - c_adj
    half = _t_quantile(m - 1) * math.sqrt((b_adj + c_adj - centre**2) / (n_eff + 2))
    return Estimate(value, max(-1.0, centre - half), min(1.0, centre + half), n, n_eff, math.sqrt(var),
                    len(y_prod) - n)


def gate_passes(differences: Mapping[str, Estimate | None], margin: float = 0.02) -> bool:
    """The release gate: every gating judge's paired difference has its interval's low above -margin.

    A judge without an estimate (no pair with known verdicts) fails the gate: no evidence is not
    evidence of no harm. An empty mapping fails too.
    """
    if margin < 0:
        msg = f"The gate margin is a tolerated drop in pass rate and must be 0 or more, got {margin}."
        raise ValueError(msg)
    return bool(differences) and all(e is not None and e.low > -margin for e in differences.values())


def outcome_rates(outcomes: Iterable, weights: Iterable[float], *, clusters: Iterable | None = None,
                  pi: Iterable[float] | None = None) -> dict[str, Estimate | None]:
    """Weighted win / tie / loss rates of a pairwise judge, each with its interval.

    ``outcomes`` are 'win', 'tie', 'loss' (candidate against production) or None/'unknown', which are
    left out of all three rates.
    """
    labels = np.array(outcomes if isinstance(outcomes, np.ndarray) else list(outcomes), dtype=object)
    unknown = np.array([o is None or o == "unknown" for o in labels], dtype=bool)
    bad = {str(o) for o in labels[~unknown] if o not in _PAIRWISE}
    if bad:
        msg = f"Pairwise outcomes must be 'win', 'tie', 'loss' or None/'unknown'; got {sorted(bad)}."
        raise ValueError(msg)
    design = _design(weights, clusters, pi, len(labels), "outcome_rates")
    return {kind: _rate(np.where(unknown, np.nan, labels == kind).astype(float), *design) for kind in _PAIRWISE}


def _rate(values: np.ndarray, w: np.ndarray, codes: np.ndarray | None,
          p_incl: np.ndarray | None) -> Estimate | None:
    """The ratio estimate of a 0/1 outcome (NaN: unknown, left out) with its Wilson-type interval."""
    known = ~np.isnan(values)
    n = int(known.sum())
    if n == 0:
        return None
    w, codes, p_incl = _subset(known, w, codes, p_incl)
    value, var, m = _linearised(values[known], w, codes, p_incl)
    n_eff = _effective_n(value * (1.0 - value), var, w, p_incl)
    low, high = _wilson(value, n_eff, _t_quantile(m - 1))
    return Estimate(value, low, high, n, n_eff, math.sqrt(var), len(values) - n)


def _subset(keep: np.ndarray, w: np.ndarray, codes: np.ndarray | None,
            p_incl: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    return w[keep], None if codes is None else codes[keep], None if p_incl is None else p_incl[keep]


def _outcomes(y: Iterable, name: str) -> np.ndarray:
    if isinstance(y, np.ndarray) and y.dtype.kind in "biuf":
        values = y.astype(float)
    else:
        values = np.array([_outcome(v, name, i) for i, v in enumerate(y)], dtype=float)
    if not np.all(np.isnan(values) | (values == 0.0) | (values == 1.0)):
        msg = f"{name} holds values other than 1/0 (pass/fail) and NaN (unknown); give verdicts, not scores."
        raise ValueError(msg)
    return values


def _outcome(v: object, name: str, i: int) -> float:
    if v is None:
        return math.nan
    if isinstance(v, str):
        if v in _PASS:
            return _PASS[v]
    elif isinstance(v, bool | int | float | np.number | np.bool_) and (v in (0, 1) or math.isnan(v)):
        return float(v)
    msg = f"{name}[{i}] is {v!r}; give 'pass'/'fail'/'unknown', True/False, 1/0 or None for unknown."
    raise ValueError(msg)


def _design(weights: Iterable[float], clusters: Iterable | None, pi: Iterable[float] | None, n: int,
            caller: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    w = np.asarray(weights if isinstance(weights, np.ndarray) else list(weights), dtype=float)
    if w.shape != (n,):
        msg = f"{caller}: {len(w)} weights for {n} records; give one weight per record."
        raise ValueError(msg)
    if not np.all(np.isfinite(w) & (w > 0)):
        msg = f"{caller}: weights must be positive and finite (1 / inclusion probability); fix the weights."
        raise ValueError(msg)
    codes = None
    if clusters is not None:
        labels = clusters if isinstance(clusters, np.ndarray) else np.array(list(clusters), dtype=object)
        if labels.shape != (n,):
            msg = f"{caller}: {len(labels)} cluster labels for {n} records; give one label per record."
            raise ValueError(msg)
        codes = np.unique(labels.astype(str) if labels.dtype == object else labels, return_inverse=True)[1]
    p_incl = None
    if pi is not None:
        p_incl = np.asarray(pi if isinstance(pi, np.ndarray) else list(pi), dtype=float)
        if p_incl.shape != (n,) or not np.all((p_incl > 0) & (p_incl <= 1)):
            msg = f"{caller}: pi must hold one inclusion probability in (0, 1] per record."
            raise ValueError(msg)
        if codes is not None:
            lo = np.full(codes.max() + 1, np.inf)
            hi = np.full(codes.max() + 1, -np.inf)
            np.minimum.at(lo, codes, p_incl)
            np.maximum.at(hi, codes, p_incl)
            if not np.allclose(lo, hi):
                msg = (f"{caller}: records of one cluster have different inclusion probabilities; a cluster "
                       "is drawn as a whole, so give each record its cluster's probability.")
                raise ValueError(msg)
    return w, codes, p_incl


def _linearised(x: np.ndarray, w: np.ndarray, codes: np.ndarray | None,
                p_incl: np.ndarray | None) -> tuple[float, float, int]:
    """The ratio estimate, its linearisation variance and the number of clusters."""
    total = w.sum()
    value = float(np.dot(w, x) / total)
    z = w * (x - value) / total
    fpc = 1.0 if p_incl is None else 1.0 - p_incl
    if codes is None:
        zg, fg = z, fpc
    else:
        codes = np.unique(codes, return_inverse=True)[1]  # renumber after records were left out
        zg = np.bincount(codes, weights=z)
        fg = fpc if p_incl is None else 1.0 - np.bincount(codes, weights=p_incl) / np.bincount(codes)
    m = len(zg)
    var = float(np.sum(fg * zg**2)) * m / (m - 1) if m > 1 else 0.0
    return value, max(var, 0.0), m


def _effective_n(spread: float, var: float, w: np.ndarray, p_incl: np.ndarray | None) -> float:
    """n* = spread / v (the design-effect-adjusted size), Kish's n_eff where v = 0; at most sum 1 / pi."""
    tiny = 1e-12
    if var > tiny * max(spread, tiny) and spread > tiny:
        n_eff = spread / var
        # Only the finite-population factor can bring v near 0: never more than the traces stood for.
        return n_eff if p_incl is None else min(n_eff, float(np.sum(1.0 / p_incl)))
    return float(w.sum() ** 2 / np.dot(w, w))


def _wilson(p: float, n: float, t: float) -> tuple[float, float]:
    k = t * t / n
    centre = (p + k / 2) / (1 + k)
    half = t * math.sqrt(p * (1 - p) / n + k / (4 * n)) / (1 + k)
    # At p = 0 (or 1) the bound is 0 (or 1) exactly; rounding must not push it past the estimate.
    low = 0.0 if p <= 0 else max(0.0, min(p, centre - half))
    high = 1.0 if p >= 1 else min(1.0, max(p, centre + half))
    return low, high


def _t_quantile(df: int) -> float:
    """The two-sided 95 % quantile of Student's t: exact for 1 and 2 degrees of freedom, otherwise the
    Cornish-Fisher expansion (off by 0.004 at 3 degrees of freedom, by less than 3e-4 from 5 on)."""
    df = max(df, 1)
    q = 0.5 + CONFIDENCE / 2
    if df == 1:
        return math.tan(math.pi * (q - 0.5))
    if df == 2:
        a = 2 * q - 1
        return math.sqrt(2 * a * a / (1 - a * a))
    z, v = _Z, float(df)
    return (z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
            + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4))


__all__: Sequence[str] = ("Estimate", "gate_passes", "outcome_rates", "paired_difference", "weighted_rate")
