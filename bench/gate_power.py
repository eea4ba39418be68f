"""The release gate on simulated days (eval_pipeline_tests.support.simulate), through the gate's own
comparison code (eval_pipeline_tests.support.gate_simulate): how often its 95 % intervals hold the truth,
and how often it passes candidates of known quality for a given number of records, the figures behind
the README's sample-size guidance.

Each seed is one day of the issue's traffic (1,500 traces, 5 % errors, duplicates) and one Poisson draw of
``target`` records; the LLM judge's verdicts on production and on the candidate agree on 80 % of records by
construction ("regenerated" answers), unless the candidate's answers are production's (identical).

    PYTHONPATH=$PWD .venv/bin/python bench/gate_power.py --seeds 1000
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from eval_pipeline_tests.support import gate_simulate as gs  # noqa: E402
from eval_pipeline_tests.support import simulate as sim  # noqa: E402

TARGETS = (100, 200, 500, 1000, 2000)
CANDIDATES = [
    ("identical answers", {"identical_candidate": True}),
    ("equal quality", {"candidate_unknown_rate": 0.0}),
    ("equal quality, 3 % candidate unknowns", {}),
    ("2 points worse", {"candidate_unknown_rate": 0.0, "candidate_shift": -0.02}),
    ("5 points worse", {"candidate_unknown_rate": 0.0, "candidate_shift": -0.05}),
]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=1000, help="simulated days per figure")
    p.add_argument("--margin", type=float, default=0.02)
    args = p.parse_args()
    seeds = range(args.seeds)
    start = time.perf_counter()
    print(f"coverage of the gate's 95 % intervals over {args.seeds} days (target 0.95)")
    for label, design, case in [
        ("paired difference, equal quality", sim.DayDesign(), gs.paired_case(args.margin)),
        ("paired difference, candidate -3 points", sim.DayDesign(candidate_shift=-0.03), gs.paired_case(args.margin)),
        *[(f"pairwise {kind} rate", sim.DayDesign(), gs.pairwise_case(kind)) for kind in ("win", "tie", "loss")],
    ]:
        c = sim.coverage(seeds, design, case)
        print(f"  {label:40s} {c.covered:6.3f}  mean width {c.width:.3f}", flush=True)
    print(f"\nshare of days the gate passes (margin {args.margin}), by records drawn (target size)")
    print(f"  {'candidate':40s}" + "".join(f"{t:>8d}" for t in TARGETS))
    for label, options in CANDIDATES:
        shares = [gs.gate_pass_share(seeds, sim.DayDesign(target_size=t, **options), args.margin) for t in TARGETS]
        print(f"  {label:40s}" + "".join(f"{s:8.3f}" for s in shares), flush=True)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
