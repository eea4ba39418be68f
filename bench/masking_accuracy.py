"""Masking accuracy on text nobody here wrote: the independent labelled PII set, scored per entity type.

Generates the set (``eval_pipeline_tests/support/pii_eval_set.py``: Faker values from 27 locales in support-chat,
tool-output and trace-log sentences of ten languages, plus trace identifiers that must survive), masks it with
the project's masker through its public API, and prints recall per type with 95 % Wilson intervals, per format
variant, the structured and names totals, over-masking and the negatives altered.

    .venv/bin/python bench/masking_accuracy.py --texts 3000 --seed 0
    .venv/bin/python bench/masking_accuracy.py --names presidio --examples 5   # with the name tier
"""

import argparse
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from eval_pipeline_tests.support import pii_eval_set, pii_scoring  # noqa: E402

KEY = b"bench-masking-accuracy"


def project_masker(names: str = "", spacy_model: str = "en_core_web_sm") -> pii_scoring.Masker:
    """The project's masker as ``mask(texts) -> texts``, in the pipeline's order: the detectors (masked_traces),
    then, with ``names``, the name tier (what eval_dataset records get before any judge reads them)."""
    from eval_pipeline.lib import masking

    tier = masking.load_name_tier(names, spacy_model) if names else None
    if tier is not None and tier.detector is None:
        raise SystemExit(f"The name tier is not available here: {tier.status}")

    def mask(texts: list[str]) -> list[str]:
        column = masking.mask_series(pl.Series("text", texts, dtype=pl.String), KEY).texts
        if tier is None:
            return column.to_list()
        return masking.mask_names(column, KEY, tier.detector)[0].to_list()

    return mask


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--texts", type=int, default=3000, help="labelled texts to generate")
    p.add_argument("--seed", type=int, default=0, help="generator seed (same seed, same texts)")
    p.add_argument("--names", choices=["presidio"], default=None, help="also run the name tier (what eval_dataset records get)")
    p.add_argument("--spacy-model", default="en_core_web_sm", help="spaCy model of the name tier")
    p.add_argument("--variants", choices=["missed", "all", "none"], default="missed",
                   help="rows per format variant (card brand, IBAN country, layout, ...): those with a miss, all, none")
    p.add_argument("--locales", action="store_true", help="also print recall per type and locale")
    p.add_argument("--examples", type=int, default=0, help="print this many missed values per type")
    args = p.parse_args()

    mask = project_masker(args.names or "", args.spacy_model)
    t0 = time.perf_counter()
    rows = pii_eval_set.build(args.texts, args.seed)
    t1 = time.perf_counter()
    result = pii_scoring.score(rows, mask)
    t2 = time.perf_counter()
    if args.names:
        # The name tier's own speed: records per second on these texts (spaCy pipe in batches, one process).
        texts = [r.text for r in rows]
        t3 = time.perf_counter()
        mask(texts)
        ner_s = time.perf_counter() - t3
        print(f"name tier + detectors: {len(texts) / ner_s:,.0f} texts/s ({ner_s:.1f} s for {len(texts)} texts)")
    n_entities = sum(len(r.entities) for r in rows)
    n_negatives = sum(len(r.negatives) for r in rows)
    print(f"{len(rows)} texts (seed {args.seed}, {len({r.locale for r in rows})} locales, "
          f"{len({r.language for r in rows})} languages): {n_entities} entities, {n_negatives} negatives; "
          f"generated in {t1 - t0:.1f} s, masked and scored in {t2 - t1:.1f} s; "
          f"name tier: {args.names or 'off'}\n")
    print(result.format_table(variants=args.variants, locales=args.locales, examples=args.examples))


if __name__ == "__main__":
    main()
