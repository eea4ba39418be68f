"""Simulated days of production traffic, their Poisson eval samples, and the true rates to cover.

A day (``simulate_day``): ``traces`` traces, each on a tool path (shares and pass rates in ``PATHS``),
an error with probability ``error_rate``, in a latency tier (``TIERS``). One repeated question takes
``repeated_share`` of the day's traces (``repeated_error_rate`` of them errors), and ``duplicate_share`` of
the other traces are requests asked 2 to ``max_duplicates`` times. The traces of one request share its
tool path and its difficulty (a shift of the log-odds of error and of pass, sd ``request_effect``), but
each has its own status, latency and verdicts, so duplicates differ in outcome. Per trace the day holds
the verdicts of a code judge (``no_error``), of an LLM judge whose verdict depends on the response (with
unknowns), of the same LLM judge on a candidate's response to the same request (paired), and of a
pairwise judge (win / tie / loss).

Samples follow the dataset selection (sql/dataset/eval_dataset_population.sql), with its rank-based
minimum replaced by Poisson draws: strata are tool path x status x latency tier; errors weigh
``error_oversample`` times in the proportional allocation of ``target_size``; every stratum expects at
least ``min_per_stratum`` units; every unit is drawn independently. ``draw_traces`` draws each trace on
its own (as the selection does since issue 11); ``draw_groups`` draws distinct requests (by their
representative's stratum, as the selection did before, or with the probability that any of their traces
would be drawn) and returns every trace of a drawn request,
clustered by request; ``collapse`` turns that draw into the legacy dataset records (one per request, the
representative's outcome, weight = duplicates / pi). ``coverage`` runs a case over many days.
"""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from eval_pipeline.lib import stats

# (share of distinct requests, LLM judge pass rate on ok traces)
PATHS = ((0.55, 0.92), (0.30, 0.80), (0.10, 0.97), (0.045, 0.40), (0.005, 0.10))
# (share of traces, drop in the LLM judge's pass rate): the day's tiers <=p50, p50-p90, p90-p99, >p99
TIERS = ((0.50, 0.0), (0.40, 0.0), (0.09, 0.10), (0.01, 0.25))
ERROR_PASS_RATE = 0.2
REPEATED_PATH = 1
# Pairwise judge, candidate against production: (win, tie, loss) on ok traces, error traces, the repeated question
PAIRWISE = ((0.30, 0.50, 0.20), (0.15, 0.45, 0.40), (0.50, 0.30, 0.20))
OUTCOMES = np.array(["win", "tie", "loss"], dtype=object)


@dataclass(frozen=True)
class DayDesign:
    """The traffic of a simulated day and how its eval sample is drawn."""

    traces: int = 1500
    error_rate: float = 0.05  # of the whole day
    repeated_error_rate: float = 0.3  # of the repeated question's traces (it trips a tool)
    repeated_share: float = 0.04
    duplicate_share: float = 0.15  # of the other traces: requests asked 2 to max_duplicates times
    max_duplicates: int = 8
    request_effect: float = 1.0  # sd of a request's shift of error and pass log-odds, shared by its traces
    repeated_pass_rate: float = 0.55  # the LLM judge on the repeated question's ok responses
    unknown_rate: float = 0.03  # LLM and pairwise judges: abstained, unparseable, budget
    candidate_shift: float = 0.0  # the candidate's pass probability minus production's, per trace
    candidate_agreement: float = 0.8  # share of pairs whose two verdicts come from one draw
    candidate_unknown_rate: float | None = None  # None: the same as production's
    identical_candidate: bool = False  # same responses, so the cached verdicts are production's
    target_size: float = 200.0
    error_oversample: float = 3.0
    min_per_stratum: float = 3.0


@dataclass(frozen=True)
class Day:
    """Per trace: stratum code, error flag, request (duplicate group), verdicts, inclusion probabilities."""

    stratum: np.ndarray
    error: np.ndarray
    group: np.ndarray
    code: np.ndarray  # no_error: 1 / 0
    llm: np.ndarray  # 1 / 0 / NaN (unknown)
    cand: np.ndarray  # the LLM judge on the candidate's response: 1 / 0 / NaN
    pairwise: np.ndarray  # 'win' / 'tie' / 'loss' / None
    pi_trace: np.ndarray  # when each trace is drawn on its own
    pi_group: np.ndarray  # when distinct requests are drawn by their representative's stratum
    pi_any: np.ndarray  # when a request is drawn if any of its traces would be: 1 - prod(1 - pi_trace)
    representative: np.ndarray  # per request: the trace that stands for it


@dataclass(frozen=True)
class Sample:
    """Records of a draw: trace index, weight, inclusion probability and cluster (request) per record."""

    idx: np.ndarray
    weight: np.ndarray
    pi: np.ndarray
    cluster: np.ndarray


def simulate_day(rng: np.random.Generator, design: DayDesign = DayDesign()) -> Day:  # noqa: B008 - frozen
    """One day's traces with their verdicts and both designs' inclusion probabilities."""
    n = design.traces
    group = _requests(rng, design)
    groups = group[-1] + 1
    repeated = np.arange(n) < round(design.repeated_share * n)
    group_path = rng.choice(len(PATHS), size=groups, p=_normalised([s for s, _ in PATHS]))
    group_path[group[repeated]] = REPEATED_PATH
    path = group_path[group]
    # A request's traces share its difficulty: one shift of the log-odds of error and of pass per request.
    shift = design.request_effect * rng.standard_normal((2, groups))
    shift[:, group[repeated]] = 0.0
    other_error_rate = (design.error_rate * n - design.repeated_error_rate * repeated.sum()) / (~repeated).sum()
    error_rate = np.where(repeated, design.repeated_error_rate, _shifted(other_error_rate, shift[0][group]))
    error = rng.random(n) < error_rate
    tier = rng.choice(len(TIERS), size=n, p=_normalised([s for s, _ in TIERS]))
    stratum = path * 2 * len(TIERS) + error * len(TIERS) + tier

    ok_rate = np.array([r for _, r in PATHS])[path]
    ok_rate[repeated] = design.repeated_pass_rate
    q = np.where(error, ERROR_PASS_RATE, ok_rate) - np.array([d for _, d in TIERS])[tier]
    q = _shifted(np.clip(q, 0.01, 0.99), -shift[1][group])
    u = rng.random(n)
    llm = _with_unknowns(rng, (u < q).astype(float), design.unknown_rate)
    if design.identical_candidate:
        cand = llm.copy()
    else:
        v = np.where(rng.random(n) < design.candidate_agreement, u, rng.random(n))
        rate = design.unknown_rate if design.candidate_unknown_rate is None else design.candidate_unknown_rate
        cand = _with_unknowns(rng, (v < np.clip(q + design.candidate_shift, 0, 1)).astype(float), rate)

    kind = np.where(repeated, 2, error.astype(int))
    cum = np.cumsum(np.array(PAIRWISE), axis=1)[kind]
    pairwise = OUTCOMES[(rng.random(n)[:, None] > cum[:, :2]).sum(axis=1)]
    pairwise[rng.random(n) < design.unknown_rate] = None

    representative = _representatives(rng, group)
    pi_group = _allocate(stratum[representative], design)
    pi_trace = _allocate(stratum, design)
    pi_any = 1.0 - np.exp(np.bincount(group, weights=np.log1p(-np.minimum(pi_trace, 1 - 1e-12))))
    return Day(stratum=stratum, error=error, group=group, code=(~error).astype(float), llm=llm, cand=cand,
               pairwise=pairwise, pi_trace=pi_trace, pi_group=pi_group[group], pi_any=pi_any[group],
               representative=representative)


def draw_traces(rng: np.random.Generator, day: Day) -> Sample:
    """Poisson draw of traces, each on its own; cluster = the trace's request (for who wants it)."""
    idx = np.flatnonzero(rng.random(len(day.pi_trace)) < day.pi_trace)
    return Sample(idx=idx, weight=1.0 / day.pi_trace[idx], pi=day.pi_trace[idx], cluster=day.group[idx])


def draw_groups(rng: np.random.Generator, day: Day, by: str = "any") -> Sample:
    """Poisson draw of distinct requests; every trace of a drawn request, clustered by request.

    ``by="any"``: a request's probability is that of any of its traces being drawn on its own;
    ``by="representative"``: its representative's stratum probability (the selection before issue 11).
    """
    pi_unit = {"any": day.pi_any, "representative": day.pi_group}[by]
    pi = pi_unit[day.representative]
    drawn = rng.random(len(pi)) < pi
    idx = np.flatnonzero(drawn[day.group])
    return Sample(idx=idx, weight=1.0 / pi_unit[idx], pi=pi_unit[idx], cluster=day.group[idx])


def collapse(day: Day, sample: Sample) -> Sample:
    """The legacy dataset records of a ``draw_groups`` sample: one per request, the representative's
    outcome standing for all its traces (weight = duplicate count / pi)."""
    requests, first = np.unique(sample.cluster, return_index=True)
    counts = np.bincount(day.group)[requests]
    pi = sample.pi[first]
    return Sample(idx=day.representative[requests], weight=counts / pi, pi=pi, cluster=requests)


def true_rate(verdicts: np.ndarray) -> float:
    """The day's pass rate over traces with a known verdict."""
    return float(np.nanmean(verdicts))


def true_difference(prod: np.ndarray, cand: np.ndarray, unknown_candidate: str = "fail") -> float:
    """The day's candidate-minus-production pass rate under the paired estimator's rule for unknowns."""
    if unknown_candidate == "fail":
        cand = np.where(np.isnan(cand), 0.0, cand)
    return float(np.nanmean(cand - prod))


def true_outcome_rates(outcomes: np.ndarray) -> dict[str, float]:
    """The day's win / tie / loss shares over traces with a known pairwise outcome."""
    known = outcomes[outcomes != None]  # noqa: E711 - elementwise on an object array
    return {str(k): float(np.mean(known == k)) for k in OUTCOMES}


def kish_wilson(y: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    """(rate, low, high) as the dashboards computed them before issue 11 (the judge_estimates macro):
    Wilson's interval at Kish's n_eff. Kept here as the reference the new estimator is measured against."""
    known = ~np.isnan(y)
    y, w = y[known], weights[known]
    p = float(np.dot(w, y) / w.sum())
    n = float(w.sum() ** 2 / np.dot(w, w))
    z2 = 1.96**2
    half = 1.96 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    centre = p + z2 / (2 * n)
    return p, (centre - half) / (1 + z2 / n), (centre + half) / (1 + z2 / n)


def _requests(rng: np.random.Generator, design: DayDesign) -> np.ndarray:
    """Each trace's request: the repeated question's traces first, then the duplicated requests', then
    the single ones; requests are numbered from 0 in that order."""
    repeated = round(design.repeated_share * design.traces)
    rest = design.traces - repeated
    sizes = rng.integers(2, design.max_duplicates + 1, size=max(rest // 2, 1))
    sizes = sizes[np.cumsum(sizes) <= round(design.duplicate_share * rest)]
    singles = rest - sizes.sum()
    group = np.concatenate([np.zeros(repeated, int), np.repeat(np.arange(1, len(sizes) + 1), sizes),
                            np.arange(len(sizes) + 1, len(sizes) + 1 + singles)])
    return group if repeated else group - 1


def _shifted(rate: np.ndarray | float, shift: np.ndarray) -> np.ndarray:
    logit = np.log(rate) - np.log1p(-rate)
    return 1.0 / (1.0 + np.exp(-(logit + shift)))


# A case estimates something on one simulated day: (truth, low, high), or None when the draw gave no estimate.
Case = Callable[[np.random.Generator, Day], tuple[float, float, float] | None]


@dataclass(frozen=True)
class Coverage:
    """How often a case's 95 % interval held the day's truth, and how wide it was on average."""

    covered: float
    width: float
    days: int


def coverage(seeds: Iterable[int], design: DayDesign, case: Case) -> Coverage:
    """Run ``case`` on one simulated day per seed (the day and its draw both come from the seed)."""
    hits, widths = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        out = case(rng, simulate_day(rng, design))
        if out is not None:
            truth, low, high = out
            hits.append(low <= truth <= high)
            widths.append(high - low)
    return Coverage(float(np.mean(hits)), float(np.mean(widths)), len(hits))


def rate_case(judge: str, draw: str = "traces", *, clusters: bool = True, legacy: bool = False,
              errors_only: bool = False) -> Case:
    """The weighted pass rate of ``judge`` ('code' or 'llm') against the day's true rate.

    ``draw``: 'traces' (each trace on its own), or a ``draw_groups`` mode ('any', 'representative').
    ``clusters``: tell the estimator which traces were drawn together. ``legacy``: estimate from the
    collapsed records with Wilson at Kish's n_eff instead (the dashboards before issue 11).
    ``errors_only``: the rate among error traces (a domain: the per-stratum call on the error traces of
    the draw).
    """
    def case(rng: np.random.Generator, day: Day) -> tuple[float, float, float] | None:
        verdicts = getattr(day, judge)
        sample = draw_traces(rng, day) if draw == "traces" else draw_groups(rng, day, draw)
        if legacy:
            sample = collapse(day, sample)
        truth = true_rate(verdicts[day.error] if errors_only else verdicts)
        if errors_only:
            keep = day.error[sample.idx]
            sample = Sample(sample.idx[keep], sample.weight[keep], sample.pi[keep], sample.cluster[keep])
            if not keep.any():
                return None
        if legacy:
            _, low, high = kish_wilson(verdicts[sample.idx], sample.weight)
            return truth, low, high
        est = stats.weighted_rate(verdicts[sample.idx], sample.weight, pi=sample.pi,
                                  clusters=sample.cluster if clusters and draw != "traces" else None)
        return None if est is None else (truth, est.low, est.high)
    return case


def paired_case(draw: str = "traces") -> Case:
    """The LLM judge's candidate-minus-production difference against the day's true difference."""
    def case(rng: np.random.Generator, day: Day) -> tuple[float, float, float] | None:
        s = draw_traces(rng, day) if draw == "traces" else draw_groups(rng, day, draw)
        est = stats.paired_difference(day.llm[s.idx], day.cand[s.idx], s.weight, pi=s.pi,
                                      clusters=None if draw == "traces" else s.cluster)
        return None if est is None else (true_difference(day.llm, day.cand), est.low, est.high)
    return case


def outcome_case(kind: str) -> Case:
    """The pairwise judge's ``kind`` ('win', 'tie', 'loss') rate on trace draws against the day's."""
    def case(rng: np.random.Generator, day: Day) -> tuple[float, float, float] | None:
        s = draw_traces(rng, day)
        est = stats.outcome_rates(day.pairwise[s.idx], s.weight, pi=s.pi)[kind]
        return None if est is None else (true_outcome_rates(day.pairwise)[kind], est.low, est.high)
    return case


def gate_pass_share(seeds: Iterable[int], design: DayDesign, margin: float = 0.02) -> float:
    """The share of days on which the release gate on the LLM judge passes (trace draws)."""
    passed = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        day = simulate_day(rng, design)
        s = draw_traces(rng, day)
        diff = stats.paired_difference(day.llm[s.idx], day.cand[s.idx], s.weight, pi=s.pi)
        passed.append(stats.gate_passes({"llm": diff}, margin))
    return float(np.mean(passed))


def _normalised(shares: list[float]) -> np.ndarray:
    a = np.array(shares, dtype=float)
    return a / a.sum()


def _with_unknowns(rng: np.random.Generator, verdicts: np.ndarray, rate: float) -> np.ndarray:
    verdicts[rng.random(len(verdicts)) < rate] = np.nan
    return verdicts


def _representatives(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """One trace per request, uniformly at random among its traces."""
    order = np.lexsort((rng.random(len(group)), group))
    first = np.ones(len(order), bool)
    first[1:] = group[order][1:] != group[order][:-1]
    return order[first]


def _allocate(stratum: np.ndarray, design: DayDesign) -> np.ndarray:
    """Each unit's inclusion probability under the dataset's allocation (see the module docstring)."""
    size = np.bincount(stratum).astype(float)
    is_error = (np.arange(len(size)) // len(TIERS)) % 2 == 1
    demand = size * np.where(is_error, design.error_oversample, 1.0)
    share = design.target_size * demand / demand.sum()
    minimum = np.minimum(size, design.min_per_stratum)
    small = (share < minimum) & (size > 0)
    rest = max(design.target_size - minimum[small].sum(), 0.0)
    large_demand = demand[~small].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        # Every stratum expects at least its minimum (the SQL draws it by rank when its share falls short).
        p = np.maximum(minimum / size, np.where(small, 0.0, np.minimum(1.0, rest * demand / large_demand / size)))
    return p[stratum]
