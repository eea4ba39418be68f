"""Fuzzing the readers: Hypothesis-generated OTLP exports, read as sent in every on-disk form and gzip, and
mutated (bytes flipped, set, inserted, deleted, cut; a JSON node replaced by a hostile value or its key
misspelt), plus arbitrary bytes and arbitrary JSON. Every payload goes through the readers, the normaliser and
the Arrow conversion, as a landing file does.

Prints the cases (payloads read), the spans read and stored, the quarantine rows, the crashes (an exception out
of ingestion: must be 0) and the unreconciled cases (spans lost without a quarantine row, or an export as sent
not read whole: must be 0), with the first few of either.

    .venv/bin/python bench/fuzz.py --examples 700 --seed 0
"""

import argparse
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from eval_pipeline_tests.support import otlp_fuzz as fz  # noqa: E402

SHOW = 3


class Tally:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.failures: list[tuple[str, str]] = []

    def case(self, family: str, check: Callable[[], fz.Outcome], payload: Callable[[], bytes]) -> None:
        self.counts["cases"] += 1
        self.counts[f"cases:{family}"] += 1
        try:
            out = check()
        except AssertionError:
            self.counts["unreconciled"] += 1
            self._keep("unreconciled", payload)
            return
        except Exception:  # an exception out of ingestion: what must never happen
            self.counts["crashes"] += 1
            self._keep(f"crash: {traceback.format_exc(limit=3)}", payload)
            return
        self.counts["spans"] += out.spans
        self.counts["rows"] += out.rows
        self.counts["quarantine rows"] += out.problems

    def _keep(self, what: str, payload: Callable[[], bytes]) -> None:
        if len(self.failures) < SHOW:
            self.failures.append((what, repr(payload()[:300])))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--examples", type=int, default=700, help="generated exports (16 payloads each)")
    p.add_argument("--garbage", type=int, default=1000, help="arbitrary byte strings and JSON documents")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    tally = Tally()
    # No shrinking: a failure is counted and shown, and the run goes on.
    run = settings(max_examples=args.examples, deadline=None, database=None, phases=[Phase.generate],
                   suppress_health_check=list(HealthCheck))

    @seed(args.seed)
    @run
    @given(fz.exports, st.lists(fz.byte_mutations, min_size=3, max_size=3),
           st.lists(fz.tree_mutations, min_size=3, max_size=3), st.sampled_from(fz.FORMS),
           st.sampled_from(fz.JSON_FORMS), st.booleans())
    def exports(export: list, bms: list, tms: list, bform: str, jform: str, gz: bool) -> None:
        for form in fz.FORMS:
            for z in (False, True):
                tally.case("as sent", lambda f=form, z=z: fz.check_sent(export, f, z),
                           lambda f=form, z=z: fz.encode(export, f, z))
        for m in bms:
            data = fz.mutate_bytes(fz.encode(export, bform, gz), m)
            tally.case("bytes mutated", lambda d=data: fz.check_any(d), lambda d=data: d)
        for m in tms:
            tally.case("JSON node mutated", lambda m=m: fz.check_json_mutation(export, jform, m),
                       lambda m=m: fz.encode_mutated(fz.mutate_tree(fz.json_tree(export, jform), m)[0], jform))

    garbage_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                                lambda c: st.lists(c) | st.dictionaries(st.text(), c)).map(fz.dumps)

    @seed(args.seed)
    @settings(run, max_examples=args.garbage)
    @given(st.binary(max_size=2000) | garbage_json)
    def garbage(data: bytes) -> None:
        tally.case("arbitrary bytes or JSON", lambda: fz.check_any(data), lambda: data)

    t0 = time.perf_counter()
    exports()
    garbage()
    seconds = time.perf_counter() - t0
    c = tally.counts
    print(f"cases            : {c['cases']:,} in {seconds:.0f} s (seed {args.seed}; {args.examples} generated exports, "
          f"{args.garbage} garbage inputs)")
    for family in ("as sent", "bytes mutated", "JSON node mutated", "arbitrary bytes or JSON"):
        print(f"  {family:<22}: {c['cases:' + family]:,}")
    print(f"spans read       : {c['spans']:,} ({c['rows']:,} stored as rows)")
    print(f"quarantine rows  : {c['quarantine rows']:,}")
    print(f"crashes          : {c['crashes']}")
    print(f"unreconciled     : {c['unreconciled']}")
    for what, payload in tally.failures:
        print(f"--- {what}\n    payload: {payload}")
    if c["crashes"] or c["unreconciled"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
