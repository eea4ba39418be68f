import dagster as dg

from eval_pipeline.defs import rebuild
from eval_pipeline.defs.automation import LIVE_TAG, LIVE_TRIGGER
from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib import fingerprints, judging
from eval_pipeline.lib.judging import agreement
from eval_pipeline.lib.metadata import rounded
from eval_pipeline.lib.warehouse import insert_rows, load_sql, transaction
from eval_pipeline.resources import Judge, Settings, Warehouse


@dg.asset(
    deps=["eval_dataset"],
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    group_name="judging",
    pool="warehouse",
)
def judge_scores(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: Settings,
                 judge: Judge) -> dg.MaterializeResult:
    """One verdict (pass / fail / unknown, with a reason when unknown) per eval record and judge."""
    day = context.partition_time_window.start.date()
    config = settings.config()
    endpoint = judge.endpoint()
    live = context.run.tags.get(LIVE_TAG) == LIVE_TRIGGER
    rate = config.monitoring.live_judge_sample_rate if live else 1.0
    with warehouse.get_connection() as con:
        records = con.sql(load_sql("judging/judge_records"), params={"day": day}).to_arrow_table().to_pylist()
        fp, keepable = fingerprints.judge_scores_fingerprint(con, day, records, config, rate, endpoint.model,
                                                             endpoint.api_base)
        if (kept := rebuild.kept(context, con, "judge_scores", day, fp, keepable)) is not None:
            return kept
    scored = judging.score_day(records, config, endpoint, day=day, connect=warehouse.get_connection,
                               live=live, live_sample_rate=config.monitoring.live_judge_sample_rate)
    with warehouse.get_connection() as con:
        with transaction(con):
            con.execute(load_sql("judging/judge_scores_delete_day"), {"day": day})
            insert_rows(con, "judging/judge_scores_insert", "score_rows", scored.score_rows)
            insert_rows(con, "judging/judge_cache_insert", "new_judgements", scored.cache_rows)
        context.log.info("%s: judged %d records with %s (model: %s)", day, scored.records,
                         ", ".join(scored.judges), scored.model or "none configured")
        if scored.live_sampled is not None:
            context.log.info("live run: LLM judges on %d of %d records (rate %.2f)", scored.live_sampled,
                             scored.records, scored.live_sample_rate)
        for warning in scored.warnings():
            context.log.warning(warning)
        return rebuild.built(context, con, "judge_scores", day, fp, {
            "dagster/row_count": len(scored.score_rows),
            "records": scored.records,
            "verdicts": dg.MetadataValue.md(scored.verdict_table()),
            "unknown_reasons": dg.MetadataValue.json(scored.unknown_reasons()),
            "model": scored.model or "none",
            **rounded(scored.spend(), 6),
            "unpriced_models": dg.MetadataValue.json(scored.unpriced_models()),
        })


@dg.asset(
    deps=["judge_scores"],
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    group_name="judging",
    pool="warehouse",
)
def judge_agreement(context: dg.AssetExecutionContext, warehouse: Warehouse,
                    settings: Settings) -> dg.MaterializeResult:
    """Per judge and day: agreement of the judge's verdicts with human labels (accuracy, Cohen's kappa,
    confusion matrix, counts)."""
    day = context.partition_time_window.start.date()
    with warehouse.get_connection() as con:
        scores = con.sql(load_sql("judging/judge_verdicts"), params={"day": day}).to_arrow_table().to_pylist()
        label_rows = con.sql(load_sql("judging/judge_human_labels"), params={"day": day}).to_arrow_table().to_pylist()
    result = agreement.day_agreement(scores, label_rows, settings.config().judging.labels_file)
    rows = result.rows()
    with warehouse.get_connection() as con, transaction(con):
        con.execute(load_sql("judging/judge_agreement_delete_day"), {"day": day})
        insert_rows(con, "judging/judge_agreement_insert", "agreement_rows", rows, {"day": day})
    context.log.info("%s: %d human labels, agreement for %d judges", day, result.labels, len(result.results))
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(rows),
        "labels": result.labels,
        "agreement": dg.MetadataValue.md(result.summary_table()),
        **{f"kappa/{judge}": kappa for judge, kappa in result.kappas().items()},
    })
