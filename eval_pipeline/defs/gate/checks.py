import dagster as dg

from eval_pipeline.lib.warehouse import load_sql
from eval_pipeline.resources import Warehouse

_SPECS = [
    dg.AssetCheckSpec("release_gate_passed", asset="release_gate", description="The candidate passed its release "
                      "gate: no gating judge lost more than the margin at 95 % confidence and no curated must-pass "
                      "record failed."),
    dg.AssetCheckSpec("every_request_recorded", asset="release_gate", description="Every production record of the "
                      "dev-eval dataset has exactly one candidate response row, answered or failed: no call is "
                      "silently skipped."),
    dg.AssetCheckSpec("gate_estimates_have_intervals", asset="release_gate", description="Every gating judge's row "
                      "that decided carries an estimate, a 95 % interval and the number of records behind it."),
]


@dg.multi_asset_check(specs=_SPECS, can_subset=True, description="What must hold of the latest gate run of a "
                      "(dataset version, candidate) partition.")
def release_gate_checks(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
    key = context.run.tags.get("dagster/partition")
    if not key:
        msg = "Release gate checks run for one gate: launch them with a partition (<dataset version>:<candidate>)."
        raise ValueError(msg)
    version, _, candidate = key.partition(":")
    selected = {k.name for k in context.selected_asset_check_keys}
    with warehouse.get_connection() as con:
        latest = con.execute(load_sql("gate/release_gate_latest"),
                             {"version": version, "candidate": candidate}).fetchall()
        if not latest:
            for name in selected:
                yield dg.AssetCheckResult(check_name=name, passed=False, metadata={"reason": "no gate run stored"})
            return
        gate_id, verdict, window_end, reasons = latest[0]
        coverage = con.execute(load_sql("gate/candidate_responses_coverage"),
                               {"gate_id": gate_id, "window_end": window_end}).fetchall()[0]
        bad = con.execute(load_sql("gate/release_gates_without_interval"), {"gate_id": gate_id}).fetchall()
    records, recorded, duplicated, failed = coverage
    results = {
        "release_gate_passed": dg.AssetCheckResult(
            check_name="release_gate_passed", passed=verdict == "pass",
            metadata={"gate_id": gate_id, "verdict": verdict, "reasons": dg.MetadataValue.json(list(reasons or []))}),
        "every_request_recorded": dg.AssetCheckResult(
            check_name="every_request_recorded", passed=records == recorded and duplicated == 0,
            metadata={"records": records, "recorded": recorded, "duplicated": duplicated, "failed_calls": failed}),
        "gate_estimates_have_intervals": dg.AssetCheckResult(
            check_name="gate_estimates_have_intervals", passed=not bad,
            metadata={"rows_without_interval": dg.MetadataValue.json([{"judge": j, "verdict": v}
                                                                      for j, v, *_ in bad])}),
    }
    for name in selected:
        yield results[name]
