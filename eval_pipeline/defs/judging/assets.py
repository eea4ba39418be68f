import dataclasses
import datetime as dt
from collections import Counter

import dagster as dg
import pyarrow as pa

from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib.warehouse import load_sql, transaction
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
    with warehouse.get_connection() as con:
        records = con.sql(load_sql("judge_records"), params={"day": day}).to_arrow_table().to_pylist()
    names = list(config.judging.judges)
    context.log.info("%s: judging %d records with %s (model: %s)", day, len(records), ", ".join(names),
                     judge.resolved_model() or "none configured")
    verdicts = judge.score(records, names, config)
    scored_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [{**dataclasses.asdict(v), "trace_date": day, "scored_at": scored_at} for v in verdicts]
    with warehouse.get_connection() as con, transaction(con):
        con.execute("DELETE FROM judge_scores WHERE trace_date = $day", {"day": day})
        if rows:
            con.register("score_rows", pa.Table.from_pylist(rows))
            con.execute("INSERT INTO judge_scores BY NAME SELECT * FROM score_rows")
            con.unregister("score_rows")
    counts = Counter((v.judge, v.verdict) for v in verdicts)
    reasons = Counter(v.unknown_reason for v in verdicts if v.verdict == "unknown")
    failed_calls = [v for v in verdicts if v.unknown_reason == "retries_exhausted"]
    if failed_calls and len(failed_calls) == sum(1 for v in verdicts if v.model):
        # Every call failed: that is a setup problem (key, model name, api_base), not bad luck.
        context.log.warning("Every judge call failed (%d); first error: %s. Check EVAL_JUDGE_MODEL, "
                            "EVAL_JUDGE_API_BASE and the provider key.", len(failed_calls), failed_calls[0].rationale)
    table = "| judge | pass | fail | unknown |\n|---|---|---|---|\n" + "".join(
        f"| {j} | {counts[(j, 'pass')]} | {counts[(j, 'fail')]} | {counts[(j, 'unknown')]} |\n" for j in names)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(rows),
        "records": len(records),
        "verdicts": dg.MetadataValue.md(table),
        "unknown_reasons": dg.MetadataValue.json(dict(reasons)),
        "cost_usd": round(sum(v.cost_usd or 0.0 for v in verdicts), 6),
    })
