"""Masking accuracy on text nobody here wrote: the independent labelled PII set, scored per entity type.

Generates the set (``eval_pipeline_tests/support/pii_eval_set.py``: Faker values from 27 locales in support-chat,
tool-output and trace-log sentences of ten languages, plus trace identifiers that must survive), masks it with
the project's masker through its public API, and prints recall per type with 95 % Wilson intervals, per format
variant, the structured and names totals, over-masking and the negatives altered.

    .venv/bin/python bench/masking_accuracy.py --texts 3000 --seed 0
    .venv/bin/python bench/masking_accuracy.py --names presidio --examples 5   # with the optional name tier
"""

import argparse
import inspect
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from eval_pipeline_tests.support import pii_eval_set, pii_scoring  # noqa: E402

KEY = b"bench-masking-accuracy"


def _name_detector(kind: str, spacy_model: str):  # noqa: ANN202 (the detector type lives in the package)
    """The package's optional name detector, wherever this checkout keeps its loader."""
    import importlib

    for module in ("eval_pipeline.lib.masking.names", "eval_pipeline.lib.masking.pii_names",
                   "eval_pipeline.lib.pii_names"):
        try:
            load = importlib.import_module(module).load
        except (ImportError, AttributeError):
            continue
        try:
            return load(kind, spacy_model)
        except (ImportError, RuntimeError, OSError) as exc:
            raise SystemExit(f"The name tier '{kind}' is not available here: {exc}") from None
    raise SystemExit("This checkout has no name-detector loader (pii_names.load); run without --names.")


def project_masker(names: str = "", spacy_model: str = "en_core_web_sm") -> pii_scoring.Masker:
    """The project's masker as ``mask(texts) -> texts``, through the package's public API.

    ``mask_series(pl.Series, key)`` returns a result whose ``.texts`` is the masked column. The name tier is
    passed to ``mask_series`` when it takes ``names``, otherwise it runs through ``mask_frame`` on a frame
    whose ``request`` column holds the texts.
    """
    from eval_pipeline.lib import masking

    mask_series = getattr(masking, "mask_series", None)
    if mask_series is None:
        raise SystemExit("eval_pipeline.lib.masking has no mask_series: update project_masker to the new API.")
    detector = _name_detector(names, spacy_model) if names else None

    def mask(texts: list[str]) -> list[str]:
        column = pl.Series("text", texts, dtype=pl.String)
        if detector is None:
            return mask_series(column, KEY).texts.to_list()
        if "names" in inspect.signature(mask_series).parameters:
            return mask_series(column, KEY, names=detector).texts.to_list()
        frame = pl.DataFrame({"request": column}).with_columns(
            *(pl.lit(None, pl.String).alias(c) for c in masking.TEXT_COLUMNS if c != "request"),
            *(pl.lit([], pl.List(pl.String)).alias(c) for c in masking.LIST_COLUMNS),
            *(pl.lit([], pl.List(pl.Struct({f: pl.String for f in fields}))).alias(c)
              for c, fields in masking.STRUCT_LIST_FIELDS.items()),
            *(pl.lit("id").alias(c) for c in masking.ID_COLUMNS),
        )
        return masking.mask_frame(frame, KEY, names=detector)[0]["request"].to_list()

    return mask


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--texts", type=int, default=3000, help="labelled texts to generate")
    p.add_argument("--seed", type=int, default=0, help="generator seed (same seed, same texts)")
    p.add_argument("--names", choices=["presidio"], default=None, help="also run the optional name tier")
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
    n_entities = sum(len(r.entities) for r in rows)
    n_negatives = sum(len(r.negatives) for r in rows)
    print(f"{len(rows)} texts (seed {args.seed}, {len({r.locale for r in rows})} locales, "
          f"{len({r.language for r in rows})} languages): {n_entities} entities, {n_negatives} negatives; "
          f"generated in {t1 - t0:.1f} s, masked and scored in {t2 - t1:.1f} s; "
          f"name tier: {args.names or 'off'}\n")
    print(result.format_table(variants=args.variants, locales=args.locales, examples=args.examples))


if __name__ == "__main__":
    main()
