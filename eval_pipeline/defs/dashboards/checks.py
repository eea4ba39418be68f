"""The dashboard checks and the check outcomes the report reads.

The checks on the dashboard tables are check specs of the ``dashboards`` step: it evaluates them right after
it rebuilds the tables (``lib.dashboard_checks``) and records them in ``check_results``, so they are done
before ``daily_report`` (which depends on those tables) can start. Dagster does not order an asset after the
non-blocking checks of its ancestors, so the other checks' outcomes are read here from the Dagster instance
by the report; ``daily_report`` runs at the lowest step priority, which makes the in-process executor run
every ready check first, and a check that has no result yet is shown as such, never as passed."""

import datetime as dt
from typing import Any

import dagster as dg

from eval_pipeline.lib import dashboard_checks as dc
from eval_pipeline.lib.check_results import CheckOutcome

SPECS = [
    dg.AssetCheckSpec(dc.JUDGE_REGRESSION, asset="daily_judge_results", description="No judge's weighted pass "
                      "rate (overall, or in a stratum with enough data) dropped significantly below its trailing "
                      "7-day rate."),
    dg.AssetCheckSpec(dc.TRAFFIC, asset="daily_metrics", description="Traffic looks like the trailing 7 days: "
                      "tool-path mix (population stability index), error rate, latency p95 and the agent's LLM "
                      "cost per trace within their configured jumps."),
    dg.AssetCheckSpec(dc.JUDGES_ANSWER, asset="daily_judge_results", description="Judges answer: the unknown "
                      "rate stays under its threshold where a model is configured, and spend per judged record "
                      "does not jump (a warning); a judge whose every call failed is an error."),
]

# Runs of the day searched (newest first) for a check's latest evaluation, when this run did not plan it.
_RUNS_SEARCHED = 20
_PLANNED, _EVALUATED = dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED, dg.DagsterEventType.ASSET_CHECK_EVALUATION
_STEP_FAILED = dg.DagsterEventType.STEP_FAILURE


def check_result(o: CheckOutcome) -> dg.AssetCheckResult:
    """A dashboard check's outcome as Dagster's result: its figures and tables become the metadata."""
    metadata: dict[str, Any] = {k: dg.MetadataValue.json(v) if isinstance(v, list | dict) else v
                                for k, v in o.figures.items()}
    metadata |= {k: dg.MetadataValue.md(t) for k, t in o.tables.items()}
    return dg.AssetCheckResult(asset_key=o.asset, check_name=o.check, passed=bool(o.passed),
                               severity=dg.AssetCheckSeverity(o.severity), description=o.description,
                               metadata=metadata)


def ancestor_check_outcomes(context: dg.AssetExecutionContext, skip: set[dg.AssetCheckKey]) -> list[CheckOutcome]:
    """The latest outcome, for this run's day, of every check on an ancestor of the asset (but ``skip``):
    this run's where it planned the check, else the newest earlier run's of the day that did."""
    graph = context.job_def.asset_layer.asset_graph
    ancestors = graph.get_ancestor_asset_keys(context.asset_key)
    # A job that runs a subset (the report alone) knows no checks: then the day's runs say which there are.
    defined = {k for k in graph.asset_check_keys if k.asset_key in ancestors} - skip
    runs = [context.run.run_id] + [r.run_id for r in context.instance.get_runs(
        filters=dg.RunsFilter(tags={"dagster/partition": context.partition_key}), limit=_RUNS_SEARCHED)]
    found: dict[dg.AssetCheckKey, CheckOutcome] = {}
    for run_id in dict.fromkeys(runs):
        for key, outcome in run_check_outcomes(context.instance, run_id, run_id == context.run.run_id).items():
            if key.asset_key in ancestors and key not in skip:
                found.setdefault(key, outcome)
        if defined and defined <= found.keys():
            break
    return sorted(found.values(), key=lambda o: (o.asset, o.check))


def run_check_outcomes(instance: dg.DagsterInstance, run_id: str,
                       current: bool) -> dict[dg.AssetCheckKey, CheckOutcome]:
    """One run's check outcomes: its evaluations, and no result for a check it planned and did not evaluate."""
    outcomes, planned, failed_steps = {}, {}, set()
    for entry in instance.all_logs(run_id, of_type={_PLANNED, _EVALUATED, _STEP_FAILED}):
        event = entry.dagster_event
        if event.event_type == _STEP_FAILED:
            failed_steps.add(entry.step_key)
        elif event.event_type == _EVALUATED:
            e = event.asset_check_evaluation_data
            outcomes[e.asset_check_key] = _outcome(e, run_id, entry.timestamp)
        else:
            planned[event.event_specific_data.asset_check_key] = entry.step_key
    for key, step in planned.items():
        if key not in outcomes:
            outcomes[key] = CheckOutcome(key.asset_key.to_user_string(), key.name, passed=None, run_id=run_id,
                                         description=_no_result(step in failed_steps, current))
    return outcomes


def _no_result(raised: bool, current: bool) -> str:
    if raised:
        return f"the check raised an error in {'this' if current else 'its last'} run: see its step's logs"
    if current:
        return "the check had not finished when the report was written (it runs beside the report)"
    return "the check was planned in its last run but did not run (a step before it failed)"


def _outcome(e: dg.AssetCheckEvaluation, run_id: str, timestamp: float) -> CheckOutcome:
    figures = {k: _plain(v) for k, v in e.metadata.items() if not isinstance(v, dg.MarkdownMetadataValue)}
    return CheckOutcome(e.asset_key.to_user_string(), e.check_name, e.passed, e.severity.value, e.description,
                        figures, run_id=run_id,
                        evaluated_at=dt.datetime.fromtimestamp(timestamp, dt.UTC).replace(tzinfo=None))


def _plain(v: dg.MetadataValue) -> Any:
    value = v.value
    return value if value is None or isinstance(value, str | int | float | bool | list | dict) else str(value)
