"""What every domain's checks share: the day a check runs for, and one factory for Great Expectations rule checks."""

import datetime as dt
from collections.abc import Callable
from typing import Any

import dagster as dg

from eval_pipeline.lib import fingerprints
from eval_pipeline.lib.config import Config
from eval_pipeline.lib.expectations import Rule, validate
from eval_pipeline.resources import Settings, Warehouse

_SAMPLE = 10


def check_day(context: dg.AssetCheckExecutionContext) -> dt.date:
    """The day an asset check runs for: checks read one partition, named by the run's partition tag."""
    key = context.run.tags.get("dagster/partition")
    if not key:
        msg = "Asset checks here run for one day: launch them with a partition (the dagster/partition tag)."
        raise ValueError(msg)
    return dt.date.fromisoformat(key)


def gx_rule_checks(*, name: str, asset: str, rules: Callable[[dt.date, Config], list[Rule]], frame_sql: str,
                   description: str, blocking: bool = False,
                   severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
                   shown: Callable[[Any], str] = str) -> dg.AssetChecksDefinition:
    """A Great Expectations suite over the day's frame (``sql/<frame_sql>.sql``, bound to ``$day``) as one
    Dagster check per rule. ``rules(day, config)`` builds the suite when the check runs, so thresholds come
    from the run's config; the names and descriptions shown in the UI are those rules' own. ``shown`` turns
    an unexpected value into what metadata may show (e.g. only the shape of an id that should be a pseudonym)."""
    specs = [dg.AssetCheckSpec(r.name, asset=asset, description=r.description, blocking=blocking)
             for r in rules(dt.date(1970, 1, 1), Config())]

    @dg.multi_asset_check(name=name, specs=specs, can_subset=True, description=description)
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: Warehouse, settings: Settings):
        day = check_day(context)
        selected = {k.name for k in context.selected_asset_check_keys}
        suite = [r for r in rules(day, settings.config()) if r.name in selected]
        # The same rules on rows that hash the same give the same results: those are reused, and GX (seconds
        # to import) is not loaded for a day whose rows did not change.
        rows, results, reused = fingerprints.cached_rule_results(
            warehouse.get_connection, f"check:{name}", day, frame_sql, suite, context.run.run_id,
            lambda df: validate(df, suite))
        for res in results:
            yield dg.AssetCheckResult(
                asset_key=asset, check_name=res.name, passed=res.success, severity=severity,
                metadata={"rows": rows, "unexpected_count": res.unexpected_count or 0,
                          "unexpected_sample": dg.MetadataValue.json([shown(v) for v in res.unexpected_sample[:_SAMPLE]]),
                          "same_rows_as_run": reused or ""})

    return _checks

