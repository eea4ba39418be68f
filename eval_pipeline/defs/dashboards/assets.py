import dagster as dg

from eval_pipeline.defs.dashboards import checks
from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib import check_results, dashboard_checks, report
from eval_pipeline.lib.dashboards import rebuild_day
from eval_pipeline.lib.report.inputs import report_inputs
from eval_pipeline.lib.warehouse import transaction
from eval_pipeline.resources import Settings, Warehouse


@dg.multi_asset(
    specs=[
        dg.AssetSpec("daily_metrics", deps=["masked_traces", "eval_dataset"], kinds={"duckdb"},
                     group_name="dashboards", description="Daily traffic health: volume, error rate, "
                     "latency percentiles, tokens, top tool paths, quarantined records, dataset size."),
        dg.AssetSpec("daily_judge_results", deps=["judge_scores"], kinds={"duckdb"}, group_name="dashboards",
                     description="Per judge and day: verdict counts, unknown reasons, spend and the weighted "
                     "pass rate with its 95 % interval."),
        dg.AssetSpec("daily_judge_strata", deps=["judge_scores"], kinds={"duckdb"}, group_name="dashboards",
                     description="Per judge, stratum and day: the weighted pass rate with its 95 % interval."),
    ],
    check_specs=checks.SPECS,
    partitions_def=daily_partitions,
    pool="warehouse",
)
def dashboards(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: Settings):
    """Rebuild the day's dashboard tables from masked tables and scores only, then evaluate the checks on
    them and record their outcomes (in the same step, so they exist before the report starts)."""
    day = context.partition_time_window.start.date()
    with warehouse.get_connection() as con:
        with transaction(con):
            t = rebuild_day(con, day)
            outcomes = dashboard_checks.evaluate_dashboard_checks(con, day, settings.config().monitoring)
            check_results.record(con, day, outcomes)
    if t.unpriced_models or t.judge_unpriced_calls:
        context.log.warning("%s: spend left unpriced for agent model(s) %s and %d judge call(s): litellm's price map "
                            "has no price for them; agent_cost_usd and spend_usd leave them out.", day,
                            ", ".join(t.unpriced_models) or "none", t.judge_unpriced_calls)
    yield dg.MaterializeResult(asset_key="daily_metrics", metadata={
        **t.metrics, "top_tool_paths": dg.MetadataValue.md(t.tool_paths_md),
        "unpriced_models": dg.MetadataValue.json(t.unpriced_models),
    })
    yield dg.MaterializeResult(asset_key="daily_judge_results", metadata={
        "judges": dg.MetadataValue.md(t.judges_md), **t.pass_rates, "judge_spend_usd": t.judge_spend_usd,
        "judge_unpriced_calls": t.judge_unpriced_calls,
    })
    yield dg.MaterializeResult(asset_key="daily_judge_strata", metadata={"rows": t.strata_rows})
    for o in outcomes:
        yield checks.check_result(o)


@dg.asset(
    deps=["daily_metrics", "daily_judge_results", "daily_judge_strata", "judge_agreement"],
    partitions_def=daily_partitions,
    kinds={"html"},
    group_name="dashboards",
    pool="warehouse",
    # The lowest priority: the in-process executor runs every check that is ready before this step, so the
    # report reads their outcomes (see checks.py).
    op_tags={"dagster/priority": "-1"},
)
def daily_report(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: Settings) -> dg.MaterializeResult:
    """A self-contained HTML report of the day (what changed: failed checks, regressions and example records;
    charts, tables, 30-day trends) and the index of all days."""
    day = context.partition_time_window.start.date()
    upstream = checks.ancestor_check_outcomes(context, skip=set(dashboards.check_keys))
    with warehouse.get_connection() as con:
        with transaction(con):
            check_results.record(con, day, upstream)
        inputs = report_inputs(con, day, settings.config().monitoring)
    page, index = report.write_report(settings.reports_dir(), inputs)
    context.log.info("%s: report written to %s", day, page)
    return dg.MaterializeResult(metadata={
        "report": dg.MetadataValue.path(str(page)),
        "index": dg.MetadataValue.path(str(index)),
        # The same sentences as the judge_pass_rate_no_regression check's: one rule, one wording.
        "regressions": dg.MetadataValue.json([r.sentence for r in inputs.regressions]),
        "checks_not_passed": dg.MetadataValue.json([f"{o.check} ({o.status})" for o in inputs.checks
                                                    if not o.passed]),
    })
