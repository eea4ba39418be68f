"""The rows one gate run leaves in the warehouse (sql/schema/tables.sql, section gate): candidate_responses,
release_gates, release_gate_strata, release_gate_verdicts, and its new judgements in judge_cache. Every
run is kept (a release decision can cite its gate_id); curated lines that could not be read go to
quarantine, replacing what an earlier run wrote for the same file."""

from typing import Any

import duckdb

from eval_pipeline.lib import stats
from eval_pipeline.lib.gate import compare
from eval_pipeline.lib.gate.run import GateRun
from eval_pipeline.lib.warehouse import insert_rows, load_sql, transaction


def write_gate(con: duckdb.DuckDBPyConnection, run: GateRun) -> None:
    """Store ``run`` in one transaction."""
    with transaction(con):
        insert_rows(con, "gate/candidate_responses_insert", "rows", response_rows(run))
        insert_rows(con, "gate/release_gates_insert", "rows", gate_rows(run))
        insert_rows(con, "gate/release_gate_strata_insert", "rows", strata_rows(run))
        insert_rows(con, "gate/release_gate_verdicts_insert", "rows", verdict_rows(run))
        insert_rows(con, "judging/judge_cache_insert", "new_judgements", run.cache_rows())
        for source in sorted({p.source_file for p in run.inputs.problems}):
            con.execute(load_sql("traces/quarantine_delete_file"), {"source_file": source})
        if run.inputs.problems:
            con.executemany(load_sql("traces/quarantine_insert"),
                            [[p.source_file, p.position, p.reason, p.excerpt, run.gated_at]
                             for p in run.inputs.problems])


def _run_columns(run: GateRun) -> dict[str, Any]:
    return {"gate_id": run.gate_id, "gated_at": run.gated_at, "dataset_version": run.inputs.dataset_version,
            "window_end": run.inputs.window_end, "candidate": run.candidate.label()}


def response_rows(run: GateRun) -> list[dict[str, Any]]:
    answers = run.responses()
    return [{**_run_columns(run), "record_id": r.record_id, "section": r.section, "request": r.request,
             "response": a.response, "tool_calls": a.tool_calls, "status": a.status, "error_kind": a.error_kind,
             "error": a.error, "latency_ms": a.latency_ms, "attempts": a.attempts, "cost_usd": a.cost_usd}
            for r in run.inputs.records if (a := answers.get(r.record_id)) is not None]


def _estimate(e: stats.Estimate | None) -> dict[str, Any]:
    if e is None:
        return {"estimate": None, "ci_low": None, "ci_high": None, "n": 0, "n_eff": None, "left_out": None}
    return {"estimate": e.value, "ci_low": e.low, "ci_high": e.high, "n": e.n, "n_eff": e.n_eff,
            "left_out": e.left_out}


def gate_rows(run: GateRun) -> list[dict[str, Any]]:
    """One row per gating judge (production), per judge on the curated records, per pairwise outcome."""
    base = {**_run_columns(run), "window_start": run.inputs.window_start, "candidate_kind": run.candidate.kind,
            "candidate_target": run.candidate.target, "judge_model": run.judge_model, "margin": run.margin,
            "gate_verdict": run.verdict, "report": run.report, "production_rate": None, "candidate_rate": None,
            "candidate_unknown": None, "records_needed": None}
    if run.verdict == "error":
        detail = " ".join(run.reasons)
        return [{**base, **_estimate(None), "judge": j, "section": "production", "metric": "pass_rate_difference",
                 "gating": True, "verdict": "error", "detail": detail} for j in run.judges]
    rows = [{**base, **_estimate(c.difference), "judge": c.judge, "section": "production",
             "metric": "pass_rate_difference", "gating": True, "verdict": c.verdict,
             "production_rate": c.production.value if c.production else None,
             "candidate_rate": c.candidate.value if c.candidate else None,
             "candidate_unknown": c.candidate_unknown, "records_needed": c.records_needed,
             "detail": None if c.verdict == "pass" else compare.reason(c, run.margin)}
            for c in run.comparisons]
    rows += [{**base, **_estimate(c.rate), "judge": c.judge, "section": "curated", "metric": "pass_rate",
              "gating": False, "verdict": "info", "candidate_rate": c.rate.value if c.rate else None,
              "candidate_unknown": c.unknown, "detail": f"{c.passed} passed, {c.failed} failed, {c.unknown} unknown"}
             for c in run.curated if run.inputs.curated]
    if run.pairwise is not None:
        rows += [{**base, **_estimate(e), "judge": "pairwise", "section": "pairwise", "metric": kind,
                  "gating": False, "verdict": "info", "detail": None if run.pairwise.order_agreement is None else
                  f"the two orders agreed on {run.pairwise.order_agreement:.0%} of the records"}
                 for kind, e in run.pairwise.rates.items()]
    return rows


def strata_rows(run: GateRun) -> list[dict[str, Any]]:
    return [{"gate_id": run.gate_id, "judge": c.judge, "stratum": stratum, "estimate": e.value, "ci_low": e.low,
             "ci_high": e.high, "n": e.n} for c in run.comparisons for stratum, e in c.strata]


def verdict_rows(run: GateRun) -> list[dict[str, Any]]:
    rows = []
    production, curated = run.inputs.production, run.inputs.curated
    for judge in run.candidate_verdicts:
        for r, p, c in zip(production, run.production[judge], run.candidate_verdicts[judge], strict=True):
            rows.append(_verdict_row(run, r.record_id, "production", judge, r.stratum, r.weight, p, c.verdict,
                                     c.unknown_reason, c.rationale))
        for r, c in zip(curated, run.curated_verdicts[judge], strict=True):
            rows.append(_verdict_row(run, r.record_id, "curated", judge, None, 1.0, None, c.verdict,
                                     c.unknown_reason, c.rationale))
    if run.pairwise is not None and run.pairwise_verdicts is not None:
        for r, outcome, first in zip(production, run.pairwise.outcomes, run.pairwise_verdicts[0], strict=True):
            rows.append(_verdict_row(run, r.record_id, "pairwise", "pairwise", r.stratum, r.weight, None,
                                     outcome or "unknown", None, first.rationale))
    return rows


def _verdict_row(run: GateRun, record_id: str, section: str, judge: str, stratum: str | None, weight: float,
                 prod: Any, verdict: str, reason: str | None, rationale: str) -> dict[str, Any]:
    return {"gate_id": run.gate_id, "record_id": record_id, "section": section, "judge": judge,
            "stratum": stratum, "weight": weight, "production_verdict": None if prod is None else prod.verdict,
            "production_reason": None if prod is None else prod.unknown_reason, "candidate_verdict": verdict,
            "candidate_reason": reason, "candidate_rationale": rationale}
