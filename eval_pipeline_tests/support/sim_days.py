"""Simulated days (eval_pipeline_tests.support.simulate) taken through the project's own warehouse code: the
day's traces as masked_traces rows, the real selection (lib.sampling.select_day), the real code judge
``no_error`` and a scripted LLM judge on the drawn records (judge_scores rows), the real estimates
(lib.estimates) and dashboards (lib.dashboards).

A trace's request is its request group's text, so duplicates share a request_key; its response carries
the LLM judge's verdict on it (``[[pass]]`` / ``[[fail]]`` / ``[[unknown]]``), so the scripted judge's
verdict depends on the response and duplicates differ in outcome. Tool paths, status and latency tiers
follow the simulated strata; models, sessions and users are drawn around them.
"""

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from eval_pipeline.lib import dashboards, estimates, sampling
from eval_pipeline.lib.config import Sampling
from eval_pipeline.lib.judging import judge_records
from eval_pipeline_tests.support import simulate as sim

PATH_TOOLS = (["search"], ["search", "answer"], [], ["lookup", "refund"], ["rare_tool"])
TIER_MS = ((150.0, 900.0), (900.0, 3000.0), (3000.0, 8000.0), (8000.0, 20000.0))
MODELS = (("gpt-4o-mini", 0.7), ("claude-3-5-haiku-20241022", 0.3))
LLM_JUDGE = "relevance"


@dataclass(frozen=True)
class SimDay:
    """A simulated day as it was loaded: the simulator's truth and the trace ids by position."""

    date: dt.date
    day: sim.Day
    trace_ids: np.ndarray


def load_day(con: duckdb.DuckDBPyConnection, rng: np.random.Generator, date: dt.date,
             design: sim.DayDesign = sim.DayDesign(), reroute: float = 0.0) -> SimDay:  # noqa: B008 - frozen
    """Simulate a day and replace ``date``'s masked_traces with it; ``reroute`` sends that share of the
    traces through lookup > refund instead (a planted shift of the tool-path mix)."""
    day = sim.simulate_day(rng, design)
    n = len(day.group)
    path = day.stratum // (2 * len(sim.TIERS))
    path = np.where(rng.random(n) < reroute, 3, path)
    tier = day.stratum % len(sim.TIERS)
    bounds = np.array(TIER_MS)[tier]
    latency = bounds[:, 0] + rng.random(n) * (bounds[:, 1] - bounds[:, 0])
    model = rng.choice([m for m, _ in MODELS], size=n, p=[s for _, s in MODELS])
    ids = np.array([f"{date:%y%m%d}{i:026x}" for i in range(n)])
    verdicts = np.array(["unknown", "fail", "pass"])[np.nan_to_num(day.llm, nan=-1.0).astype(int) + 1]
    usage = [[{"model": m, "input_tokens": 900, "output_tokens": 120}] for m in model]
    table = pa.table({
        "trace_id": ids, "trace_date": pa.array([date] * n, pa.date32()),
        "status": np.where(day.error, "error", "ok"), "latency_ms": latency,
        "request": np.char.add("Question number ", day.group.astype(str)),
        "response": [f"Answer {i} [[{v}]]" for i, v in enumerate(verdicts)],
        "tool_path": pa.array([PATH_TOOLS[k] for k in path], pa.list_(pa.string())),
        "models": [[m] for m in model], "service_name": ["support"] * n,
        "session_id": [f"s{date}-{i // 3}" for i in range(n)], "user_id": [f"u{i % 400}" for i in range(n)],
        "model_usage": usage})
    con.execute("DELETE FROM masked_traces WHERE trace_date = $d", {"d": date})
    con.register("sim_rows", table)
    try:
        con.execute("INSERT INTO masked_traces BY NAME SELECT * FROM sim_rows")
    finally:
        con.unregister("sim_rows")
    return SimDay(date, day, ids)


def judge_day(con: duckdb.DuckDBPyConnection, date: dt.date, llm_pass_shift: float = 0.0,
              rng: np.random.Generator | None = None) -> None:
    """Replace ``date``'s judge_scores: ``no_error`` by the real code judge on the drawn records, the LLM
    judge by the verdict each response carries (``llm_pass_shift`` < 0 turns that share of passes into
    fails: a planted drop)."""
    records = con.sql("SELECT trace_id, status, response FROM eval_dataset WHERE trace_date = $d",
                      params={"d": date}).to_arrow_table().to_pylist()
    run = judge_records(records, ["no_error"])
    scores = [{"trace_id": v.trace_id, "trace_date": date, "judge": v.judge, "verdict": v.verdict,
               "cost_usd": 0.0} for v in run.verdicts]
    for r in records:
        said = r["response"].rsplit("[[", 1)[1].rstrip("]")
        if said == "pass" and llm_pass_shift < 0 and rng is not None and rng.random() < -llm_pass_shift:
            said = "fail"
        scores.append({"trace_id": r["trace_id"], "trace_date": date, "judge": LLM_JUDGE, "verdict": said,
                       "input_tokens": 400, "output_tokens": 60, "cost_usd": 0.0002})
    con.execute("DELETE FROM judge_scores WHERE trace_date = $d", {"d": date})
    if scores:
        con.register("sim_scores", pa.Table.from_pylist(scores))
        try:
            con.execute("INSERT INTO judge_scores BY NAME SELECT * FROM sim_scores")
        finally:
            con.unregister("sim_scores")


def run_day(con: duckdb.DuckDBPyConnection, rng: np.random.Generator, date: dt.date,
            design: sim.DayDesign = sim.DayDesign(), s: Sampling = Sampling(),  # noqa: B008 - frozen
            llm_pass_shift: float = 0.0, reroute: float = 0.0) -> SimDay:
    """A simulated day through selection, judging and the dashboard tables."""
    loaded = load_day(con, rng, date, design, reroute)
    sampling.select_day(con, date, s)
    judge_day(con, date, llm_pass_shift, rng)
    dashboards.rebuild_day(con, date)
    return loaded


def covered(con: duckdb.DuckDBPyConnection, loaded: SimDay) -> dict[str, tuple[float, float, float]]:
    """Per judge: (the day's true pass rate over its traces, the stored interval's low, its high)."""
    truth = {"no_error": sim.true_rate(loaded.day.code), LLM_JUDGE: sim.true_rate(loaded.day.llm)}
    judges, _ = estimates.day_figures(con, loaded.date)
    return {j["judge"]: (truth[j["judge"]], j["ci_low"], j["ci_high"]) for j in judges}
