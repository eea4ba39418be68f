"""Strata and drift on steady synthetic traffic: records per stratum and the stratum-mix PSI, day by day.

Writes ``--days`` days of the synthetic generator's traffic (eval_pipeline.synthetic.generate, about
``--traces`` traces a day; its mix of tool paths, errors, latencies and models does not change from day to
day), ingests, masks and selects each day with the default sampling config, then prints per day the
eligible traces, the strata, the records and the median and quartiles of records per stratum (drawn
records only: strata with traffic), and the PSI the check ``stratum_mix_stable`` computes against the
trailing days. The reference in the same run: the strata the four dimensions would make unmerged.

    PYTHONPATH=$PWD .venv/bin/python bench/strata.py --days 4 --traces 1500
"""

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_pipeline import synthetic  # noqa: E402
from eval_pipeline.lib import masking, sampling, warehouse  # noqa: E402
from eval_pipeline.lib.config import DatasetChecks, Privacy, Sampling  # noqa: E402
from eval_pipeline.lib.ingest import ingest_day  # noqa: E402

START = dt.date(2026, 11, 20)
TRACES_PER_SESSION = 2.48  # what the generator's sessions average


def _quartiles(values: list[int]) -> tuple[float, float, float]:
    if len(values) < 2:
        v = float(values[0]) if values else 0.0
        return v, v, v
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[1], q[2]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=int, default=4)
    p.add_argument("--traces", type=int, default=1500, help="about this many traces a day")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    s, checks = Sampling(), DatasetChecks()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        synthetic.generate(landing, START, args.days, sessions_per_day=round(args.traces / TRACES_PER_SESSION),
                           seed=args.seed, malformed=False)
        key = b"bench-strata-key-0123456789abcdef"
        with warehouse.connect(Path(tmp) / "wh.duckdb") as con:
            print(f"{'day':10s} {'traces':>6s} {'eligible':>8s} {'strata':>6s} {'unmerged':>8s} {'records':>7s} "
                  f"{'median':>6s} {'q1':>5s} {'q3':>5s} {'psi':>7s} {'p':>7s}")
            for k in range(args.days):
                day = START + dt.timedelta(days=k)
                ingest_day(con, landing, day)
                masking.write_day(con, day, masking.mask_day(con, day, Privacy(), key).masked)
                sel = sampling.select_day(con, day, s)
                strata = sampling.strata(con, day)
                unmerged = con.execute("SELECT count(DISTINCT concat_ws(' | ', tool_signature, status, latency_tier, "
                                       "model)) FROM eval_population").fetchall()[0][0]
                q1, median, q3 = _quartiles([r.records for r in strata if r.traces > 0])
                shift = sampling.stratum_shift(con, day, checks)
                psi = "-" if shift is None else f"{shift.psi:.3f}"
                p_value = "-" if shift is None else f"{shift.p_value:.2g}"
                print(f"{day.isoformat():10s} {sel.traces:6d} {sel.eligible_traces:8d} {sel.strata:6d} {unmerged:8d} "
                      f"{sel.records:7d} {median:6.1f} {q1:5.1f} {q3:5.1f} {psi:>7s} {p_value:>7s}", flush=True)
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
