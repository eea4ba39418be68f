import dataclasses
import datetime as dt
import json
from collections import Counter

import dagster as dg
import pyarrow as pa

from eval_pipeline.defs.automation import LIVE_TAG, LIVE_TRIGGER
from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib.judging import agreement
from eval_pipeline.lib.judging import runner as judges
from eval_pipeline.lib.warehouse import load_sql, transaction
from eval_pipeline.resources import Judge, Settings, Warehouse

# The columns of judge_scores a Verdict fills (all of them but the date and time).
_SCORE_COLUMNS = [f.name for f in dataclasses.fields(judges.Verdict)]


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
        records = con.sql(load_sql("judging/judge_records"), params={"day": day}).to_arrow_table().to_pylist()
    names = list(dict.fromkeys([*config.judging.judges, *(c.name for c in config.judging.custom)]))
    context.log.info("%s: judging %d records with %s (model: %s)", day, len(records), ", ".join(names),
                     judge.resolved_model() or "none configured")

    def lookup(keys: list[str]) -> dict[str, dict]:
        with warehouse.get_connection() as con:
            con.register("wanted_keys", pa.table({"cache_key": pa.array(keys, pa.string())}))
            rows = con.sql(load_sql("judging/judge_cache_lookup")).to_arrow_table().to_pylist()
            con.unregister("wanted_keys")
        return {row["cache_key"]: row for row in rows}

    rate = config.monitoring.live_judge_sample_rate if context.run.tags.get(LIVE_TAG) == LIVE_TRIGGER else 1.0
    if rate < 1.0:
        # A live (sensor) run judges a keyed-hash sample with the LLM judges and every record with the code
        # judges; the rest wait, marked unknown / not_sampled, for the nightly run (cached ones cost nothing).
        sampled = [r for r in records if judges.unit_hash(config.sampling.seed, r["trace_id"]) < rate]
        chosen = {r["trace_id"] for r in sampled}
        rest = [r for r in records if r["trace_id"] not in chosen]
        code_names = [n for n in names if n in judges.CODE_JUDGES]
        run = judge.score(sampled, names, config, seed=day.isoformat(), lookup=lookup)
        code_run = judge.score(rest, code_names, config, seed=day.isoformat(), lookup=lookup)
        waiting = [judges.not_sampled(n, r, rate, judge.resolved_model()) for n in names if n not in code_names
                   for r in rest]
        run = dataclasses.replace(run, verdicts=[*run.verdicts, *code_run.verdicts, *waiting],
                                  new_judgements=[*run.new_judgements, *code_run.new_judgements])
        context.log.info("live run: LLM judges on %d of %d records (rate %.2f)", len(sampled), len(records), rate)
    else:
        run = judge.score(records, names, config, seed=day.isoformat(), lookup=lookup)
    verdicts = run.verdicts
    scored_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [{**{c: getattr(v, c) for c in _SCORE_COLUMNS}, "trace_date": day, "scored_at": scored_at}
            for v in verdicts]
    cache_rows = [{"cache_key": key, "judge": v.judge, "prompt_version": v.prompt_version, "model": v.model,
                   "parameters": v.parameters, "input_hash": v.input_hash, "verdict": v.verdict,
                   "rationale": v.rationale, "input_tokens": v.input_tokens, "output_tokens": v.output_tokens,
                   "cost_usd": v.cost_usd, "latency_ms": v.latency_ms, "created_at": scored_at}
                  for key, v in run.new_judgements]
    with warehouse.get_connection() as con, transaction(con):
        con.execute("DELETE FROM judge_scores WHERE trace_date = $day", {"day": day})
        if rows:
            con.register("score_rows", pa.Table.from_pylist(rows))
            con.execute("INSERT INTO judge_scores BY NAME SELECT * FROM score_rows")
            con.unregister("score_rows")
        if cache_rows:
            con.register("new_judgements", pa.Table.from_pylist(cache_rows))
            con.execute(load_sql("judging/judge_cache_insert"))
            con.unregister("new_judgements")

    counts = Counter((v.judge, v.verdict) for v in verdicts)
    reasons = Counter(v.unknown_reason for v in verdicts if v.verdict == "unknown")
    failed_calls = [v for v in verdicts if v.unknown_reason in (judges.RETRIES_EXHAUSTED, judges.CALL_FAILED)]
    answered = sum(1 for v in verdicts if v.model and not v.cached and v.input_tokens is not None)
    if failed_calls and not answered:
        # Every call failed: that is a setup problem (key, model name, api_base), not bad luck.
        context.log.warning("Every judge call failed (%d); first error: %s. Check EVAL_JUDGE_MODEL, "
                            "EVAL_JUDGE_API_BASE and the provider key.", len(failed_calls), failed_calls[0].rationale)
    if run.budget_exhausted:
        context.log.warning("The judging budget of %s USD ran out: %d judgements left unknown (budget_exhausted).",
                            run.budget_usd, run.budget_exhausted)
    table = "| judge | pass | fail | unknown |\n|---|---|---|---|\n" + "".join(
        f"| {j} | {counts[(j, 'pass')]} | {counts[(j, 'fail')]} | {counts[(j, 'unknown')]} |\n" for j in names)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(rows),
        "records": len(records),
        "verdicts": dg.MetadataValue.md(table),
        "unknown_reasons": dg.MetadataValue.json(dict(reasons)),
        "model": judge.resolved_model() or "none",
        "calls": run.calls,
        "cache_hits": run.cache_hits,
        "cost_usd": round(run.cost_usd, 6),
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "budget_usd": run.budget_usd or 0.0,
        "budget_exhausted": run.budget_exhausted,
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
    config = settings.config()
    file_rows = agreement.read_labels_file(config.judging.labels_file) if config.judging.labels_file else []
    with warehouse.get_connection() as con:
        scores = con.sql("SELECT trace_id, judge, verdict FROM judge_scores WHERE trace_date = $day",
                         params={"day": day}).to_arrow_table().to_pylist()
        label_rows = con.sql(load_sql("judging/judge_human_labels"), params={"day": day}).to_arrow_table().to_pylist()
    labels = agreement.merge_labels([*label_rows, *file_rows])
    results = agreement.agreement(scores, labels)
    rows = [{**dataclasses.asdict(a), "confusion": json.dumps(a.confusion)} for a in results]
    with warehouse.get_connection() as con, transaction(con):
        con.execute("DELETE FROM judge_agreement WHERE trace_date = $day", {"day": day})
        if rows:
            con.register("agreement_rows", pa.Table.from_pylist(rows))
            con.execute(load_sql("judging/judge_agreement_insert"), {"day": day})
            con.unregister("agreement_rows")
    context.log.info("%s: %d human labels, agreement for %d judges", day, len(labels), len(results))

    def fmt(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.2f}"

    table = "| judge | compared | judge unknown | accuracy | kappa | human pass: judge pass/fail | " \
            "human fail: judge pass/fail |\n|---|---|---|---|---|---|---|\n" + "".join(
                f"| {a.judge} | {a.compared} | {a.judge_unknown} | {fmt(a.accuracy)} | {fmt(a.cohen_kappa)} | "
                f"{a.confusion['pass']['pass']}/{a.confusion['pass']['fail']} | "
                f"{a.confusion['fail']['pass']}/{a.confusion['fail']['fail']} |\n" for a in results)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(rows),
        "labels": len(labels),
        "agreement": dg.MetadataValue.md(table),
        **{f"kappa/{a.judge}": float(a.cohen_kappa) for a in results if a.cohen_kappa is not None},
    })
