"""What the assets of the daily chain share to skip a day whose inputs did not change (``lib/fingerprints.py``):
the materialization a skipped step shows (the metadata of the run that built the day, with the same keys) and the
recording of a build."""

import datetime as dt
from typing import Any

import dagster as dg
import duckdb

from eval_pipeline.lib import fingerprints


def kept(context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, step: str, day: dt.date,
         fingerprint: str | None, keepable: bool = True) -> dg.MaterializeResult | None:
    """When ``step``'s inputs for ``day`` are unchanged since it last built it (and the run does not force a
    rebuild, and the step's own rule allows it: ``keepable``): the materialization it showed then, naming that
    run; else None."""
    built = fingerprints.unchanged(con, step, day, fingerprint,
                                   force=not keepable or fingerprints.force_rebuild(context.run.tags))
    if built is None:
        return None
    context.log.info("%s %s: inputs unchanged since run %s (built %s); kept as built then", step, day,
                     built.run_id, built.built_at)
    metadata = dg.deserialize_value(built.figures, dict) if built.figures else {}
    return dg.MaterializeResult(metadata={**metadata, "unchanged_since_run": built.run_id})


def built(context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, step: str, day: dt.date,
          fingerprint: str | None, metadata: dict[str, Any]) -> dg.MaterializeResult:
    """After ``step`` wrote ``day``: record the inputs' fingerprint and what it shows, and return its
    materialization."""
    fingerprints.record(con, step, day, fingerprint, context.run.run_id, dg.serialize_value(metadata))
    return dg.MaterializeResult(metadata={**metadata, "unchanged_since_run": ""})
