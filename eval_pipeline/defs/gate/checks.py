import dagster as dg

from eval_pipeline.lib.warehouse import load_sql
from eval_pipeline.resources import Warehouse


def _latest_gate(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> tuple | None:
    """The latest gate run of the check's partition (``<dataset version>:<candidate>``):
    (gate_id, gate_verdict, window_end, reasons), or None when none was stored."""
    key = context.run.tags.get("dagster/partition")
    if not key:
        msg = "Release gate checks run for one gate: launch them with a partition (<dataset version>:<candidate>)."
        raise ValueError(msg)
    version, _, candidate = key.partition(":")
    with warehouse.get_connection() as con:
        rows = con.execute(load_sql("gate/release_gate_latest"),
                           {"version": version, "candidate": candidate}).fetchall()
    return rows[0] if rows else None


@dg.asset_check(asset="release_gate", description="The candidate passed its release gate: no gating judge lost "
                "more than the margin at 95 % confidence and no curated must-pass record failed.")
def release_gate_passed(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    """The latest gate run of the partition passed."""
    latest = _latest_gate(context, warehouse)
    if latest is None:
        return dg.AssetCheckResult(passed=False, metadata={"reason": "no gate run stored for this partition"})
    gate_id, verdict, _, reasons = latest
    return dg.AssetCheckResult(passed=verdict == "pass", metadata={
        "gate_id": gate_id, "verdict": verdict, "reasons": dg.MetadataValue.json(list(reasons or []))})


@dg.asset_check(asset="release_gate", description="Every production record of the dev-eval dataset has exactly "
                "one candidate response row, answered or failed: no call is silently skipped.")
def every_request_recorded(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    """The candidate_responses of the latest gate cover the dataset's records once each."""
    latest = _latest_gate(context, warehouse)
    if latest is None:
        return dg.AssetCheckResult(passed=False, metadata={"reason": "no gate run stored for this partition"})
    with warehouse.get_connection() as con:
        records, recorded, duplicated, failed = con.execute(load_sql("gate/candidate_responses_coverage"), {
            "gate_id": latest[0], "window_end": latest[2]}).fetchall()[0]
    return dg.AssetCheckResult(passed=records == recorded and duplicated == 0, metadata={
        "records": records, "recorded": recorded, "duplicated": duplicated, "failed_calls": failed})


@dg.asset_check(asset="release_gate", description="Every gating judge's row that decided carries an estimate, "
                "a 95 % interval and the number of records behind it.")
def gate_estimates_have_intervals(context: dg.AssetCheckExecutionContext,
                                  warehouse: Warehouse) -> dg.AssetCheckResult:
    """No decided gating row of the latest gate lacks its estimate, interval or n."""
    latest = _latest_gate(context, warehouse)
    if latest is None:
        return dg.AssetCheckResult(passed=False, metadata={"reason": "no gate run stored for this partition"})
    with warehouse.get_connection() as con:
        bad = con.execute(load_sql("gate/release_gates_without_interval"), {"gate_id": latest[0]}).fetchall()
    return dg.AssetCheckResult(passed=not bad, metadata={"rows_without_interval": dg.MetadataValue.json(
        [{"judge": j, "verdict": v} for j, v, *_ in bad])})
