import dagster as dg

from eval_pipeline.defs.checks_common import check_day, gx_rule_checks
from eval_pipeline.lib import ingest
from eval_pipeline.lib.expectations import Rule
from eval_pipeline.resources import Settings, Warehouse

STATUSES = ["ok", "error"]


def raw_traces_rules(day: str) -> list[Rule]:
    return [
        Rule("trace_id_present", "ExpectColumnValuesToNotBeNull", {"column": "trace_id"},
             "Every trace has a trace_id."),
        Rule("trace_id_unique", "ExpectColumnValuesToBeUnique", {"column": "trace_id"},
             "A trace appears once per day."),
        Rule("trace_date_is_partition", "ExpectColumnValuesToBeInSet", {"column": "trace_date", "value_set": [day]},
             "Every row belongs to the materialized day."),
        Rule("latency_non_negative", "ExpectColumnValuesToBeBetween", {"column": "latency_ms", "min_value": 0},
             "Latency is never negative."),
        Rule("status_in_set", "ExpectColumnValuesToBeInSet", {"column": "status", "value_set": STATUSES},
             "Status is 'ok' or 'error'."),
    ]


raw_traces_expectations = gx_rule_checks(
    name="raw_traces_expectations", asset="raw_traces", rules=lambda day, _config: raw_traces_rules(day.isoformat()),
    frame_sql="traces/raw_traces_checks_frame",
    description="The Great Expectations suite on the day's raw_traces: one check per rule.")


@dg.asset_check(asset="raw_traces", description="The share of quarantined records stays under the configured "
                "threshold (quality.max_quarantine_share).")
def quarantine_share_below_threshold(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                                     settings: Settings) -> dg.AssetCheckResult:
    """Quarantined records / (records + spans read) for the day stays under the threshold."""
    day = check_day(context)
    threshold = settings.config().quality.max_quarantine_share
    with warehouse.get_connection() as con:
        quarantined, spans, share = ingest.quarantine_share(con, day)
    return dg.AssetCheckResult(
        passed=share <= threshold,
        metadata={"quarantined": quarantined, "spans_read": spans, "share": share, "threshold": threshold},
    )
