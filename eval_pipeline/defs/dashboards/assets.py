import dagster as dg

from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib import report
from eval_pipeline.lib.dashboards import rebuild_day, report_inputs
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
    partitions_def=daily_partitions,
    pool="warehouse",
)
def dashboards(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Rebuild the day's dashboard tables from masked tables and scores only."""
    day = context.partition_time_window.start.date()
    with warehouse.get_connection() as con:
        with transaction(con):
            t = rebuild_day(con, day)
    yield dg.MaterializeResult(asset_key="daily_metrics", metadata={
        **t.metrics, "top_tool_paths": dg.MetadataValue.md(t.tool_paths_md),
        "unpriced_models": dg.MetadataValue.json(t.unpriced_models),
    })
    yield dg.MaterializeResult(asset_key="daily_judge_results", metadata={
        "judges": dg.MetadataValue.md(t.judges_md), **t.pass_rates, "judge_spend_usd": t.judge_spend_usd,
    })
    yield dg.MaterializeResult(asset_key="daily_judge_strata", metadata={"rows": t.strata_rows})


@dg.asset(
    deps=["daily_metrics", "daily_judge_results", "daily_judge_strata", "judge_agreement"],
    partitions_def=daily_partitions,
    kinds={"html"},
    group_name="dashboards",
    pool="warehouse",
)
def daily_report(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: Settings) -> dg.MaterializeResult:
    """A self-contained HTML report of the day (charts, tables, 30-day trends) and the index of all days."""
    day = context.partition_time_window.start.date()
    with warehouse.get_connection() as con:
        inputs = report_inputs(con, day, settings.config().monitoring)
    page, index = report.write_report(settings.reports_dir(), inputs)
    context.log.info("%s: report written to %s", day, page)
    return dg.MaterializeResult(metadata={
        "report": dg.MetadataValue.path(str(page)),
        "index": dg.MetadataValue.path(str(index)),
        # The same sentences as the judge_pass_rate_no_regression check's: one rule, one wording.
        "regressions": dg.MetadataValue.json([r.sentence for r in inputs.regressions]),
    })
