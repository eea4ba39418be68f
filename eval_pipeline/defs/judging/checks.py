import dagster as dg

from eval_pipeline.defs.checks_common import check_day
from eval_pipeline.lib import judging
from eval_pipeline.lib.warehouse import load_sql
from eval_pipeline.resources import Settings, Warehouse


@dg.asset_check(asset="judge_scores", description="Every eval record of the day has exactly one score per "
                "configured judge (built-in and custom).")
def every_record_judged(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                        settings: Settings) -> dg.AssetCheckResult:
    """Each (record, judge) pair of the day is scored exactly once."""
    day = check_day(context).isoformat()
    names = sorted(judging.judge_names(settings.config().judging))
    with warehouse.get_connection() as con:
        missing, duplicated = con.execute(load_sql("judging/judge_scores_coverage"),
                                          {"day": day, "names": names}).fetchall()[0]
    return dg.AssetCheckResult(passed=missing == 0 and duplicated == 0,
                               metadata={"missing": missing, "duplicated": duplicated, "judges": len(names)})


@dg.asset_check(asset="judge_agreement", description="Each judge's Cohen's kappa against the human labels is "
                "at least judging.min_kappa (a warning: the judge may need a better prompt or model).")
def judge_kappa_above_threshold(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                                settings: Settings) -> dg.AssetCheckResult:
    """Cohen's kappa of every judge with human labels on the day is at least the configured minimum."""
    day = check_day(context).isoformat()
    threshold = settings.config().judging.min_kappa
    with warehouse.get_connection() as con:
        rows = con.execute(load_sql("judging/judge_agreement_kappa"), {"day": day}).fetchall()
    below = {judge: round(kappa, 3) for judge, _, kappa in rows if kappa is not None and kappa < threshold}
    return dg.AssetCheckResult(
        passed=not below,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"threshold": threshold, "judges_below": dg.MetadataValue.json(below),
                  "kappa": dg.MetadataValue.json({j: (None if k is None else round(k, 3)) for j, _, k in rows}),
                  "compared": dg.MetadataValue.json({j: n for j, n, _ in rows})},
    )
