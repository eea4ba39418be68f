import dagster as dg

from eval_pipeline.defs.checks_common import check_day, gx_rule_checks
from eval_pipeline.lib import dev_eval, masking, sampling
from eval_pipeline.lib.config import DatasetChecks
from eval_pipeline.lib.expectations import Rule
from eval_pipeline.lib.metadata import md_table
from eval_pipeline.resources import Settings, Warehouse


@dg.asset_check(asset="eval_dataset", blocking=True, description="The name tier masked names, places and "
                "organisations in the day's eval records (or was switched off on purpose); a missing model reports "
                "names as unchecked and nothing downstream runs for the day.")
def names_masked(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    """Names in the day's eval records were masked by the name tier, never left unchecked."""
    day = check_day(context)
    with warehouse.get_connection() as con:
        status = masking.name_tier_of(con, day)
    checked = masking.names_checked(status)
    if not checked:
        context.log.error("%s: names in eval_dataset are unchecked (%s)", day, status or "no name tier recorded")
    return dg.AssetCheckResult(passed=checked, severity=dg.AssetCheckSeverity.ERROR, metadata={
        "names": ("off" if status == "off" else "masked") if checked else "unchecked",
        "name_tier": status or "none recorded"})


def eval_dataset_rules(c: DatasetChecks) -> list[Rule]:
    return [
        Rule("dataset_size_within_bounds", "ExpectTableRowCountToBeBetween",
             {"min_value": c.min_size, "max_value": c.max_size},
             "The day's dataset has between dataset_checks.min_size and max_size records."),
        Rule("inclusion_probability_in_unit_interval", "ExpectColumnValuesToBeBetween",
             {"column": "inclusion_probability", "min_value": 0, "max_value": 1, "strict_min": True},
             "Every record's inclusion probability lies in (0, 1]."),
        Rule("weight_at_least_one", "ExpectColumnValuesToBeBetween", {"column": "weight", "min_value": 1},
             "Every record stands for at least itself (weight = 1 / inclusion probability >= 1)."),
    ]


def dev_eval_dataset_rules() -> list[Rule]:
    return [
        Rule("no_duplicate_requests", "ExpectColumnValuesToBeUnique", {"column": "request_key"},
             "No two records of the dev-eval dataset carry the same normalised request."),
    ]


eval_dataset_expectations = gx_rule_checks(
    name="eval_dataset_expectations", asset="eval_dataset",
    rules=lambda _day, config: eval_dataset_rules(config.dataset_checks), frame_sql="dataset/eval_dataset_checks_frame",
    description="The Great Expectations suite on the day's eval_dataset: one check per rule.")


dev_eval_dataset_expectations = gx_rule_checks(
    name="dev_eval_dataset_expectations", asset="dev_eval_dataset",
    rules=lambda _day, _config: dev_eval_dataset_rules(), frame_sql="dataset/dev_eval_dataset_checks_frame",
    description="The Great Expectations suite on the dev-eval dataset of the window ending on the day.")


@dg.asset_check(asset="eval_dataset", description="Every stratum with eligible traffic has at least one record.")
def every_stratum_represented(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    """Every stratum with eligible traffic that day has at least one record in the dataset."""
    day = check_day(context)
    with warehouse.get_connection() as con:
        sampling.day_selection(con, day)
        strata = sampling.strata(con, day)
    missing = [s.stratum for s in strata if s.traces > 0 and s.records == 0]
    return dg.AssetCheckResult(passed=not missing, metadata={
        "strata": len(strata), "strata_without_records": len(missing),
        "missing_sample": dg.MetadataValue.json(missing[:10])})


@dg.asset_check(asset="eval_dataset", description="The share of error records matches the share the allocation "
                "targets (errors oversampled by sampling.error_oversample) within dataset_checks.error_share_tolerance.")
def error_share_matches_target(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                               settings: Settings) -> dg.AssetCheckResult:
    """The dataset's error share is the targeted one (expected under the design) within tolerance."""
    day = check_day(context)
    tolerance = settings.config().dataset_checks.error_share_tolerance
    with warehouse.get_connection() as con:
        sel = sampling.day_selection(con, day)
        errors = sampling.error_records(con, day)
    share = errors / sel.records if sel.records else 0.0
    target = sel.expected_error_share or 0.0
    return dg.AssetCheckResult(passed=abs(share - target) <= tolerance, metadata={
        "error_share": round(share, 4), "target": round(target, 4), "tolerance": tolerance,
        "error_records": errors, "records": sel.records})


@dg.asset_check(asset="eval_dataset", description="The records' weights add up to the day's eligible trace count "
                "within dataset_checks.weight_sum_tolerance (relative) or three standard errors.")
def weights_sum_to_eligible_traces(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                                   settings: Settings) -> dg.AssetCheckResult:
    """The weighted record count estimates the day's eligible traces (Poisson sampling: within noise)."""
    day = check_day(context)
    tolerance = settings.config().dataset_checks.weight_sum_tolerance
    with warehouse.get_connection() as con:
        sel = sampling.day_selection(con, day)
    gap = abs(sel.weight_sum - sel.eligible_traces)
    allowed = max(tolerance * sel.eligible_traces, 3 * sel.weight_sum_se)
    return dg.AssetCheckResult(passed=gap <= allowed, metadata={
        "weight_sum": round(sel.weight_sum, 1), "eligible_traces": sel.eligible_traces,
        "standard_error": round(sel.weight_sum_se, 1), "allowed_gap": round(allowed, 1)})


@dg.asset_check(asset="eval_dataset", description="The day's mix of eligible traffic over the strata cells is "
                "close to the trailing days' (population stability index on populated bins, and a chi-square test "
                "at dataset_checks.alpha; warning above dataset_checks.psi_warn, error above psi_error).")
def stratum_mix_stable(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                       settings: Settings) -> dg.AssetCheckResult:
    """The day's eligible traffic per cell has not drifted from the trailing days (PSI, significant)."""
    day = check_day(context)
    c = settings.config().dataset_checks
    with warehouse.get_connection() as con:
        sampling.day_selection(con, day)
        shift = sampling.stratum_shift(con, day, c)
    if shift is None:
        return dg.AssetCheckResult(passed=True, metadata={
            "psi": 0.0, "note": f"no selection in the {c.drift_days} days before {day}: nothing to compare"})
    level = shift.level(c.psi_warn, c.psi_error, c.alpha)
    limit = c.psi_error if level == "error" else c.psi_warn
    return dg.AssetCheckResult(
        passed=level is None,
        severity=dg.AssetCheckSeverity.ERROR if level == "error" else dg.AssetCheckSeverity.WARN,
        description=shift.sentence("stratum mix shifted", limit) if level else None,
        metadata={"psi": round(shift.psi, 4), "p_value": shift.p_value, "bins": shift.bins,
                  "psi_warn": c.psi_warn, "psi_error": c.psi_error, "alpha": c.alpha,
                  "trailing_days": c.drift_days,
                  "moved_most": dg.MetadataValue.md(md_table(["bin", "trailing", "today"], [
                      (b, f"{before:.1%}", f"{now:.1%}") for b, before, now in shift.movers[:5]]))})


@dg.asset_check(asset="dev_eval_dataset", description="Every day of the dev-eval window has a selected eval dataset.")
def dev_eval_window_complete(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                             settings: Settings) -> dg.AssetCheckResult:
    """Every day of the window had its eval_dataset selected before the dev-eval dataset was assembled."""
    end = check_day(context)
    start = dev_eval.window_start(end, max(1, settings.config().dev_eval.window_days))
    with warehouse.get_connection() as con:
        missing = dev_eval.days_without_dataset(con, start, end)
    return dg.AssetCheckResult(passed=not missing, metadata={
        "window": f"{start}..{end}", "days_without_dataset": dg.MetadataValue.json(missing)})
