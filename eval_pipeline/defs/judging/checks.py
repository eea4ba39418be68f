import dagster as dg

from eval_pipeline.defs.checks_common import check_day
from eval_pipeline.resources import Settings, Warehouse


@dg.asset_check(asset="judge_scores", description="Every eval record of the day has exactly one score per "
                "configured judge (built-in and custom).")
def every_record_judged(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                        settings: Settings) -> dg.AssetCheckResult:
    """Each (record, judge) pair of the day is scored exactly once."""
    day = check_day(context).isoformat()
    config = settings.config()
    names = sorted({*config.judging.judges, *(c.name for c in config.judging.custom)})
    with warehouse.get_connection() as con:
        missing, duplicated = con.execute(
            "WITH expected AS (SELECT d.trace_id, j.judge FROM eval_dataset AS d, "
            "  (SELECT unnest($names::VARCHAR[]) AS judge) AS j WHERE d.trace_date = CAST($day AS DATE)), "
            "scored AS (SELECT trace_id, judge, count(*) AS n FROM judge_scores "
            "  WHERE trace_date = CAST($day AS DATE) GROUP BY ALL) "
            "SELECT (SELECT count(*) FROM expected ANTI JOIN scored USING (trace_id, judge)), "
            "       (SELECT count(*) FROM scored WHERE n > 1)",
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
        rows = con.execute("SELECT judge, compared, cohen_kappa FROM judge_agreement "
                           "WHERE trace_date = CAST($day AS DATE) ORDER BY judge", {"day": day}).fetchall()
    below = {judge: round(kappa, 3) for judge, _, kappa in rows if kappa is not None and kappa < threshold}
    return dg.AssetCheckResult(
        passed=not below,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"threshold": threshold, "judges_below": dg.MetadataValue.json(below),
                  "kappa": dg.MetadataValue.json({j: (None if k is None else round(k, 3)) for j, _, k in rows}),
                  "compared": dg.MetadataValue.json({j: n for j, n, _ in rows})},
    )
