"""Score one day: which records the LLM judges see, the judgement cache, and the rows to store.

:func:`score_day` is the one entry point the ``judge_scores`` asset calls. A live run (one the landing
sensor requested) judges a keyed-hash sample of the records with the LLM judges (rate
``monitoring.live_judge_sample_rate``) and every record with the code judges; the others are ``unknown``
/ ``not_sampled`` until the nightly run, which judges every record (already judged ones come from the
cache and cost nothing).
"""

import dataclasses
import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from eval_pipeline.lib.config import Config
from eval_pipeline.lib.judging.catalog import LLM_JUDGES
from eval_pipeline.lib.judging.code_judges import CODE_JUDGES
from eval_pipeline.lib.judging.runner import JudgingRun, Lookup, judge_records
from eval_pipeline.lib.judging.settings import Endpoint, judge_names, judge_settings
from eval_pipeline.lib.judging.verdict import CALL_FAILURES, NOT_SAMPLED, SCORE_COLUMNS, Record, Verdict
from eval_pipeline.lib.metadata import md_table
from eval_pipeline.lib.warehouse import load_sql

# Opens a warehouse connection (the Warehouse resource's get_connection, or warehouse.connect on a path).
Connect = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]


@dataclass
class DayScores:
    """What scoring a day gave: the rows to store and the figures the asset shows."""

    judges: list[str]
    records: int
    model: str | None
    run: JudgingRun
    score_rows: list[dict[str, Any]]  # judge_scores rows
    cache_rows: list[dict[str, Any]]  # new judge_cache rows
    live_sampled: int | None = None  # records the LLM judges saw in a live run (None: every record)
    live_sample_rate: float = 1.0

    def verdict_table(self) -> str:
        """A markdown table of pass / fail / unknown counts per judge, in configured order."""
        counts = Counter((v.judge, v.verdict) for v in self.run.verdicts)
        return md_table(["judge", "pass", "fail", "unknown"],
                        [(j, counts[(j, "pass")], counts[(j, "fail")], counts[(j, "unknown")]) for j in self.judges])

    def unknown_reasons(self) -> dict[str, int]:
        return dict(Counter(v.unknown_reason for v in self.run.verdicts if v.verdict == "unknown"))

    def spend(self) -> dict[str, Any]:
        """Calls, cache hits, cost, tokens and budget of the run; ``cost_usd`` is "unpriced" when calls were
        answered without a price and nothing else was priced, never a $0 that looks priced."""
        run = self.run
        unpriced = self.unpriced_calls()
        cost: float | str = run.cost_usd if run.cost_usd or not unpriced else "unpriced"
        return {"calls": run.calls, "cache_hits": run.cache_hits, "cost_usd": cost, "unpriced_calls": unpriced,
                "input_tokens": run.input_tokens, "output_tokens": run.output_tokens,
                "budget_usd": run.budget_usd or 0.0, "budget_exhausted": run.budget_exhausted}

    def unpriced_calls(self) -> int:
        """Judge calls of this run that were answered (tokens counted) but have no price."""
        return sum(1 for v in self.run.verdicts if v.cost_usd is None and v.input_tokens is not None and not v.cached)

    def unpriced_models(self) -> list[str]:
        """The judge models whose answered calls have no price (litellm's map and judging.*_price_per_mtok)."""
        return sorted({v.model for v in self.run.verdicts
                       if v.cost_usd is None and v.input_tokens is not None and v.model})

    def warnings(self) -> list[str]:
        """What the person running the day must look at: a setup that makes every call fail, a spent budget."""
        out = []
        verdicts = self.run.verdicts
        failed = [v for v in verdicts if v.unknown_reason in CALL_FAILURES]
        answered = sum(1 for v in verdicts if v.model and not v.cached and v.input_tokens is not None)
        if failed and not answered:
            # Every call failed: that is a setup problem (key, model name, api_base), not bad luck.
            out.append(f"Every judge call failed ({len(failed)}); first error: {failed[0].rationale}. Check "
                       "EVAL_JUDGE_MODEL, EVAL_JUDGE_API_BASE and the provider key.")
        unpriced = self.unpriced_models()
        if unpriced:
            out.append(f"Judge spend cannot be priced for {', '.join(unpriced)}: litellm's price map does not know "
                       "the model. Set judging.input_price_per_mtok and judging.output_price_per_mtok; until then "
                       "spend shows as unpriced.")
        if self.run.budget_exhausted:
            out.append(f"The judging budget of {self.run.budget_usd} USD ran out: {self.run.budget_exhausted} "
                       "judgements left unknown (budget_exhausted).")
        return out


def score_day(records: Sequence[Record], config: Config, endpoint: Endpoint, *, day: dt.date, connect: Connect,
              live: bool = False, live_sample_rate: float = 1.0) -> DayScores:
    """Every configured judge (``judging.judges`` and the custom ones) on the day's ``records``, with cached
    judgements read through ``connect``; in a ``live`` run the LLM judges see a ``live_sample_rate`` sample."""
    stale = sum(1 for r in records if r.get("tool_path") and r.get("tool_calls") is None)
    if stale:
        # Built before eval records carried their (name-masked) tool calls: the judges would see no tool call
        # and fail or pass the tool use on nothing.
        msg = (f"{stale} eval record(s) of {day} have a tool path but no tool calls: eval_dataset for {day} was "
               f"built before records carried their tool calls. Materialize eval_dataset for {day} again "
               f"(eval-pipeline run {day}), then judge_scores.")
        raise ValueError(msg)
    names = judge_names(config.judging)
    settings = judge_settings(config, endpoint, seed=day.isoformat())
    lookup = cache_lookup(connect)
    rate = live_sample_rate if live else 1.0
    sampled_count = None
    if rate < 1.0:
        sampled = [r for r in records if unit_hash(config.sampling.seed, r["trace_id"]) < rate]
        chosen = {r["trace_id"] for r in sampled}
        rest = [r for r in records if r["trace_id"] not in chosen]
        code_names = [n for n in names if n in CODE_JUDGES]
        run = judge_records(sampled, names, settings, lookup=lookup)
        code_run = judge_records(rest, code_names, settings, lookup=lookup)
        waiting = [not_sampled(n, r, rate, endpoint.model) for n in names if n not in code_names for r in rest]
        run = dataclasses.replace(run, verdicts=[*run.verdicts, *code_run.verdicts, *waiting],
                                  new_judgements=[*run.new_judgements, *code_run.new_judgements])
        sampled_count = len(sampled)
    else:
        run = judge_records(records, names, settings, lookup=lookup)
    scored_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return DayScores(names, len(records), endpoint.model, run, score_rows(run.verdicts, day, scored_at),
                     cache_rows(run.new_judgements, scored_at), sampled_count, rate)


def cache_lookup(connect: Connect) -> Lookup:
    """Reads the stored judgements among the keys it is given from ``judge_cache``."""

    def lookup(keys: list[str]) -> dict[str, dict[str, Any]]:
        with connect() as con:
            con.register("wanted_keys", pa.table({"cache_key": pa.array(keys, pa.string())}))
            rows = con.sql(load_sql("judging/judge_cache_lookup")).to_arrow_table().to_pylist()
            con.unregister("wanted_keys")
        return {row["cache_key"]: row for row in rows}

    return lookup


def score_rows(verdicts: Sequence[Verdict], day: dt.date, scored_at: dt.datetime) -> list[dict[str, Any]]:
    """The judge_scores rows of ``verdicts``."""
    return [{**{c: getattr(v, c) for c in SCORE_COLUMNS}, "trace_date": day, "scored_at": scored_at}
            for v in verdicts]


def cache_rows(judgements: Sequence[tuple[str, Verdict]], created_at: dt.datetime | None) -> list[dict[str, Any]]:
    """The judge_cache rows of new judgements (cache key, verdict)."""
    return [{"cache_key": key, "judge": v.judge, "prompt_version": v.prompt_version, "model": v.model,
             "parameters": v.parameters, "input_hash": v.input_hash, "verdict": v.verdict,
             "rationale": v.rationale, "input_tokens": v.input_tokens, "output_tokens": v.output_tokens,
             "cost_usd": v.cost_usd, "latency_ms": v.latency_ms, "created_at": created_at}
            for key, v in judgements]


def unit_hash(seed: str, trace_id: str) -> float:
    """A keyed, deterministic number in [0, 1) per trace: the same records are sampled on every run."""
    digest = hashlib.blake2b(f"{seed}\x00{trace_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def not_sampled(name: str, record: Record, rate: float, model: str | None) -> Verdict:
    """The placeholder score of an LLM judge a live run left for the nightly run."""
    spec = LLM_JUDGES.get(name)
    return Verdict(
        judge=name, verdict="unknown", unknown_reason=NOT_SAMPLED,
        rationale=f"not in this live run's sample (rate {rate:.2f}); the nightly run judges it",
        model=model, prompt_version=spec.prompt_version if spec else "custom",
        input_tokens=None, output_tokens=None, cost_usd=0.0, latency_ms=None, trace_id=record.get("trace_id"),
    )
