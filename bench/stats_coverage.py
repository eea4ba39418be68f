"""Coverage of the statistics core's 95 % intervals (eval_pipeline.lib.stats) over simulated days.

Each seed is one day of the issue's traffic (eval_pipeline_tests.support.simulate: 1,500 traces, 5 %
errors, one repeated question taking 4 % of the day, 15 % of the other traces asked 2-8 times, duplicates
differing in outcome) and one Poisson draw of about 200 records. For each estimator and design the script
prints the share of days whose interval held the day's true value (target 0.95) and the mean width; then
how often the release gate (margin 0.02) passes candidates of known quality. The reference in the same run
is the dashboards' former interval (Wilson at Kish's n_eff on the collapsed records).

Draws: "traces" (each trace drawn on its own, weight 1/pi: what sql/dataset/eval_dataset_population.sql
does since issue 11), "requests, any" (a request drawn whole when any of its traces would be, its traces
clustered), "requests, legacy" (one draw per request at its representative's stratum probability, the
selection before issue 11).

With ``--warehouse-days N`` it then takes N simulated days through the project's own code
(eval_pipeline_tests.support.sim_days: masked_traces rows, lib.sampling.select_day with the default
config, the no_error code judge and a scripted LLM judge, lib.estimates) and prints how often the stored
95 % intervals held the day's true pass rate.

    PYTHONPATH=$PWD .venv/bin/python bench/stats_coverage.py --seeds 2000 --warehouse-days 1000
"""

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from eval_pipeline.lib import sampling, warehouse  # noqa: E402
from eval_pipeline.lib.config import Sampling  # noqa: E402
from eval_pipeline_tests.support import sim_days  # noqa: E402
from eval_pipeline_tests.support import simulate as sim  # noqa: E402

ISSUE = sim.DayDesign()
DUPLICATED = sim.DayDesign(repeated_share=0.0, duplicate_share=0.3, request_effect=1.5)
SHIFTED = sim.DayDesign(candidate_shift=-0.03)
SMALL = sim.DayDesign(target_size=40, min_per_stratum=0)


def rows() -> list[tuple[str, str, sim.DayDesign, sim.Case]]:
    """(estimator, design, day, case) for every line of the coverage table."""
    out = []
    for judge in ("code", "llm"):
        out += [
            (f"weighted_rate {judge}", "issue day, traces", ISSUE, sim.rate_case(judge)),
            (f"weighted_rate {judge}", "issue day, traces, target 40, no minimum", SMALL, sim.rate_case(judge)),
            (f"weighted_rate {judge} +clusters", "issue day, requests, any", ISSUE, sim.rate_case(judge, "any")),
            (f"weighted_rate {judge} +clusters", "issue day, requests, legacy", ISSUE,
             sim.rate_case(judge, "representative")),
            (f"kish-wilson {judge} (legacy)", "issue day, requests, legacy", ISSUE,
             sim.rate_case(judge, "representative", legacy=True)),
            (f"weighted_rate {judge} +clusters", "duplicated day, requests, legacy", DUPLICATED,
             sim.rate_case(judge, "representative")),
            (f"weighted_rate {judge} no clusters", "duplicated day, requests, legacy", DUPLICATED,
             sim.rate_case(judge, "representative", clusters=False)),
            (f"kish-wilson {judge} (legacy)", "duplicated day, requests, legacy", DUPLICATED,
             sim.rate_case(judge, "representative", legacy=True)),
        ]
    out += [
        ("weighted_rate llm", "issue day, traces, error stratum", ISSUE, sim.rate_case("llm", errors_only=True)),
        ("paired_difference llm", "candidate -3 pts, traces", SHIFTED, sim.paired_case()),
        ("paired_difference llm +clusters", "candidate -3 pts, requests, any", SHIFTED, sim.paired_case("any")),
        ("paired_difference llm +clusters", "candidate -3 pts, requests, legacy", SHIFTED,
         sim.paired_case("representative")),
    ]
    out += [(f"outcome_rates {kind}", "issue day, traces", ISSUE, sim.outcome_case(kind)) for kind in sim.OUTCOMES]
    return out


# Candidates answer anew unless identical; they have no unknowns of their own unless said (a candidate
# unknown counts as a fail, so 3 % of them cost about 2.5 points).
GATE = [
    ("identical responses (cached verdicts)", sim.DayDesign(identical_candidate=True)),
    ("equal quality", sim.DayDesign(candidate_unknown_rate=0.0)),
    ("equal quality, target 1000", sim.DayDesign(candidate_unknown_rate=0.0, target_size=1000)),
    ("equal quality, 3 % candidate unknowns", sim.DayDesign()),
    ("2 points worse", sim.DayDesign(candidate_unknown_rate=0.0, candidate_shift=-0.02)),
    ("5 points worse", sim.DayDesign(candidate_unknown_rate=0.0, candidate_shift=-0.05)),
    ("10 points worse", sim.DayDesign(candidate_unknown_rate=0.0, candidate_shift=-0.10)),
]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=2000, help="simulated days per line")
    p.add_argument("--warehouse-days", type=int, default=0, help="simulated days through the warehouse code")
    args = p.parse_args()
    seeds = range(args.seeds)
    start = time.perf_counter()
    print(f"{'estimator':36s} {'design':42s} {'coverage':>8s} {'width':>7s} {'days':>6s}")
    for estimator, label, design, case in rows():
        c = sim.coverage(seeds, design, case)
        print(f"{estimator:36s} {label:42s} {c.covered:8.3f} {c.width:7.3f} {c.days:6d}", flush=True)
    print(f"\nrelease gate on the LLM judge, margin 0.02, trace draws of target 200 unless said, {args.seeds} days")
    for label, design in GATE:
        print(f"  {label:40s} passes {sim.gate_pass_share(seeds, design):6.3f}", flush=True)
    if args.warehouse_days:
        print(f"\nthrough the warehouse (real selection SQL and lib.estimates), {args.warehouse_days} days")
        for judge, (covered, width) in warehouse_coverage(args.warehouse_days).items():
            print(f"  {judge:20s} coverage {covered:6.3f}  mean width {width:6.3f}", flush=True)
    print(f"\n{time.perf_counter() - start:.0f} s")


def warehouse_coverage(days: int) -> dict[str, tuple[float, float]]:
    """Per judge: the share of simulated days whose stored interval held the true rate, and the mean width."""
    out: dict[str, list[tuple[bool, float]]] = {}
    day = dt.date(2026, 1, 1)
    with tempfile.TemporaryDirectory() as tmp, warehouse.connect(Path(tmp) / "wh.duckdb") as con:
        for k in range(days):
            loaded = sim_days.load_day(con, np.random.default_rng(k), day)
            sampling.select_day(con, day, Sampling(seed=f"coverage-{k}"))
            sim_days.judge_day(con, day)
            for judge, (truth, low, high) in sim_days.covered(con, loaded).items():
                out.setdefault(judge, []).append((low <= truth <= high, high - low))
    return {j: (float(np.mean([c for c, _ in v])), float(np.mean([w for _, w in v]))) for j, v in out.items()}


if __name__ == "__main__":
    main()
