"""Coverage of the statistics core's 95 % intervals (eval_pipeline.lib.stats) over simulated days.

Each seed is one day of the issue's traffic (eval_pipeline_tests.support.simulate: 1,500 traces, 5 %
errors, one repeated question taking 4 % of the day, 15 % of the other traces asked 2-8 times, duplicates
differing in outcome) and one Poisson draw of about 200 records. For each estimator and design the script
prints the share of days whose interval held the day's true value (target 0.95) and the mean width; then
how often the release gate (margin 0.02) passes candidates of known quality. The reference in the same run
is today's dashboard interval (Wilson at Kish's n_eff on the collapsed records).

Draws: "traces" (each trace drawn on its own, weight 1/pi), "requests, any" (a request drawn whole when
any of its traces would be, its traces clustered), "requests, today" (one draw per request at its
representative's stratum probability, as sql/dataset/eval_dataset_population.sql does today).

    PYTHONPATH=$PWD .venv/bin/python bench/stats_coverage.py --seeds 2000
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
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
            (f"weighted_rate {judge} +clusters", "issue day, requests, today", ISSUE,
             sim.rate_case(judge, "representative")),
            (f"kish-wilson {judge} (today)", "issue day, requests, today", ISSUE,
             sim.rate_case(judge, "representative", legacy=True)),
            (f"weighted_rate {judge} +clusters", "duplicated day, requests, today", DUPLICATED,
             sim.rate_case(judge, "representative")),
            (f"weighted_rate {judge} no clusters", "duplicated day, requests, today", DUPLICATED,
             sim.rate_case(judge, "representative", clusters=False)),
            (f"kish-wilson {judge} (today)", "duplicated day, requests, today", DUPLICATED,
             sim.rate_case(judge, "representative", legacy=True)),
        ]
    out += [
        ("weighted_rate llm", "issue day, traces, error stratum", ISSUE, sim.rate_case("llm", errors_only=True)),
        ("paired_difference llm", "candidate -3 pts, traces", SHIFTED, sim.paired_case()),
        ("paired_difference llm +clusters", "candidate -3 pts, requests, any", SHIFTED, sim.paired_case("any")),
        ("paired_difference llm +clusters", "candidate -3 pts, requests, today", SHIFTED,
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
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
