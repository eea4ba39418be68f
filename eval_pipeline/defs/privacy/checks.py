import dagster as dg
import duckdb

from eval_pipeline.defs.checks_common import check_day, gx_rule_checks
from eval_pipeline.lib import fingerprints, masking
from eval_pipeline.lib.expectations import Rule
from eval_pipeline.resources import Settings, Warehouse


@dg.asset_check(asset="masked_traces", blocking=True, description="No detector finds personal data or a "
                "secret in the day's masked_traces, and user_id / session_id are pseudonyms; when this fails, "
                "nothing downstream runs for the day.")
def no_pii_left(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                settings: Settings) -> dg.AssetCheckResult:
    """Every detector, run again over every masked text of the day, finds nothing."""
    day = check_day(context)

    def scan(con: duckdb.DuckDBPyConnection) -> dict:
        found = masking.scan_day(con, day, settings.config().privacy.urls)
        # Counts and the shape of what survived only: never the value itself.
        return {"rows_scanned": found.rows_scanned, "entities_left": found.found.height,
                "entities_left_by_type": found.by_kind, "traces_affected": found.traces_affected,
                "masked_samples": found.samples}

    # The detectors give the same findings on texts that hash the same: a day whose masked texts did not change
    # is not scanned again.
    result, reused = fingerprints.cached_on_frame(warehouse.get_connection, "check:no_pii_left", day,
                                                  "privacy/masked_traces_scan_frame", context.run.run_id, scan,
                                                  settings.config().privacy)
    if result["entities_left"]:
        context.log.error("%s: %d entities survived masking in masked_traces", day, result["entities_left"])
    return dg.AssetCheckResult(
        passed=result["entities_left"] == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={**{k: dg.MetadataValue.json(v) if isinstance(v, dict | list) else v for k, v in result.items()},
                  "same_rows_as_run": reused or "",
                  # Names have no pattern: the name tier masks them in eval_dataset (see names_masked there).
                  "names": "unchecked (no pattern; masked in eval_dataset records)"},
    )


def masked_traces_rules(day: str) -> list[Rule]:
    return [
        Rule("masked_trace_id_unique", "ExpectColumnValuesToBeUnique", {"column": "trace_id"},
             "A trace appears once per day in masked_traces."),
        Rule("masked_trace_date_is_partition", "ExpectColumnValuesToBeInSet",
             {"column": "trace_date", "value_set": [day]}, "Every masked row belongs to the materialized day."),
        Rule("user_id_pseudonymised", "ExpectColumnValuesToMatchRegex",
             {"column": "user_id", "regex": masking.token_regex(masking.ID_COLUMNS["user_id"])},
             "user_id is a keyed pseudonym (or null)."),
        Rule("session_id_pseudonymised", "ExpectColumnValuesToMatchRegex",
             {"column": "session_id", "regex": masking.token_regex(masking.ID_COLUMNS["session_id"])},
             "session_id is a keyed pseudonym (or null)."),
        Rule("pii_found_recorded", "ExpectColumnValuesToNotBeNull", {"column": "pii_found"},
             "Every masked row records what was masked in it (an empty map when nothing)."),
    ]


masked_traces_expectations = gx_rule_checks(
    name="masked_traces_expectations", asset="masked_traces",
    rules=lambda day, _config: masked_traces_rules(day.isoformat()), frame_sql="privacy/masked_traces_checks_frame",
    blocking=True, shown=lambda v: masking.redacted(str(v)),  # an id that failed the pseudonym rule is raw
    description="The Great Expectations suite on the day's masked_traces column contract: one check per rule.")
