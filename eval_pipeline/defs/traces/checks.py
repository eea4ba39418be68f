import dagster as dg

from eval_pipeline.defs.partitions import check_day
from eval_pipeline.lib import ingest
from eval_pipeline.lib.expectations import Rule, validate
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


# The rules' names and descriptions; the day is filled in when the checks run.
_RULES = raw_traces_rules("")


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(r.name, asset="raw_traces", description=r.description) for r in _RULES],
    can_subset=True,
)
def raw_traces_expectations(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
    """The Great Expectations suite on the day's raw_traces: one check per rule."""
    day = check_day(context).isoformat()
    with warehouse.get_connection() as con:
        df = con.sql(
            "SELECT trace_id, CAST(trace_date AS VARCHAR) AS trace_date, latency_ms, status "
            "FROM raw_traces WHERE trace_date = CAST($day AS DATE)", params={"day": day}).pl()
    selected = {k.name for k in context.selected_asset_check_keys}
    rules = [r for r in raw_traces_rules(day) if r.name in selected]
    for res in validate(df, rules):
        yield dg.AssetCheckResult(
            asset_key="raw_traces", check_name=res.name, passed=res.success,
            metadata={"rows": len(df), "unexpected_count": res.unexpected_count or 0,
                      # ids and statuses only: never raw trace text
                      "unexpected_sample": dg.MetadataValue.json([str(v) for v in res.unexpected_sample[:10]])},
        )


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
