"""One release gate: put the dev-eval dataset's requests (and the curated ones) to the candidate, score its
answers with the same judges as production (through the judgement cache, so an unchanged candidate is
re-gated without a judge call), compare, decide.

:func:`run_gate` returns a :class:`GateRun` whatever happens once the candidate has been called: a gate that
cannot decide (the candidate answered nothing, every judge call failed, the budget ran out) has verdict
``error`` and says why, and nothing of it reads as a pass. Problems found before any call (no dataset, too
few records, an unknown judge, a candidate that cannot be loaded) raise :class:`GateSetupError`.
"""

import dataclasses
import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eval_pipeline.lib.config import Config
from eval_pipeline.lib.gate import compare
from eval_pipeline.lib.gate.candidates import CandidateSpec, open_candidate
from eval_pipeline.lib.gate.errors import GateSetupError
from eval_pipeline.lib.gate.inputs import GateInputs, GateRecord, load_inputs, window_of_version
from eval_pipeline.lib.gate.responses import CandidateCalls, CandidateResponse, call_candidate
from eval_pipeline.lib.judging import CODE_JUDGES, Endpoint, JudgingRun, judge_names, judge_records, llm_judges
from eval_pipeline.lib.judging.catalog import PAIRWISE_JUDGE
from eval_pipeline.lib.judging.day import Connect, cache_lookup, cache_rows
from eval_pipeline.lib.judging.settings import JudgeSettings, judge_settings
from eval_pipeline.lib.judging.verdict import BUDGET_EXHAUSTED, CALL_FAILURES, Verdict


@dataclass(frozen=True)
class GateOptions:
    """What a gate run may override of the config's ``gate`` section (None: the config's value)."""

    end: dt.date | None = None  # the dev-eval window's last day (default: the newest built)
    dataset_version: str | None = None  # or the dataset by its version (the asset's partitions)
    margin: float | None = None
    judges: tuple[str, ...] = ()
    min_records: int | None = None


@dataclass
class GateRun:
    """Everything one gate run found: the inputs, the candidate's answers, the verdicts, the comparison."""

    gate_id: str
    gated_at: dt.datetime
    candidate: CandidateSpec
    inputs: GateInputs
    margin: float
    judges: list[str]
    judge_model: str | None
    verdict: str = "error"  # 'pass' | 'fail' | 'error'
    reasons: list[str] = field(default_factory=list)  # why it did not pass, or why it could not decide
    calls: CandidateCalls | None = None
    production: dict[str, list[Verdict]] = field(default_factory=dict)  # per judge, production records
    candidate_verdicts: dict[str, list[Verdict]] = field(default_factory=dict)  # per judge, production records
    curated_verdicts: dict[str, list[Verdict]] = field(default_factory=dict)
    pairwise_verdicts: tuple[list[Verdict], list[Verdict]] | None = None  # (production first, candidate first)
    comparisons: list[compare.JudgeComparison] = field(default_factory=list)
    curated: list[compare.CuratedJudge] = field(default_factory=list)
    must_pass_failures: list[compare.MustPassFailure] = field(default_factory=list)
    pairwise: compare.Pairwise | None = None
    judge_runs: list[JudgingRun] = field(default_factory=list)
    report: str | None = None  # the HTML page, once written

    def cache_rows(self) -> list[dict[str, Any]]:
        """The new judge_cache rows of the run's judgements."""
        return cache_rows([j for run in self.judge_runs for j in run.new_judgements], self.gated_at)

    def responses(self) -> dict[str, CandidateResponse]:
        return {r.record_id: r for r in (self.calls.responses if self.calls else [])}


def gating_judges(config: Config, judges: Sequence[str], endpoint: Endpoint) -> list[str]:
    """The judges the gate decides on: ``judges``, else ``gate.judges``, else the configured judges; every
    name must be a judge, and LLM judges need a judge model."""
    names = list(dict.fromkeys(judges or config.gate.judges or judge_names(config.judging)))
    catalog = llm_judges(config.judging.custom)
    unknown = [n for n in names if n not in CODE_JUDGES and n not in catalog]
    if unknown or not names:
        msg = (f"Unknown gating judge(s) {unknown}; choose from: {', '.join(sorted([*CODE_JUDGES, *catalog]))}."
               if unknown else "No gating judge: give --judges or set gate.judges / judging.judges.")
        raise GateSetupError(msg)
    needs_model = [n for n in names if n in catalog]
    if needs_model and not endpoint.model:
        msg = (f"The gating judge(s) {', '.join(needs_model)} are LLM judges but no judge model is configured: set "
               "EVAL_JUDGE_MODEL (and EVAL_JUDGE_API_BASE), or gate on code judges only, e.g. "
               "--judges no_error,non_empty_response.")
        raise GateSetupError(msg)
    return names


def run_gate(config: Config, endpoint: Endpoint, spec: CandidateSpec, *, connect: Connect, key: bytes,
             options: GateOptions = GateOptions()) -> GateRun:  # noqa: B008 - frozen
    """Gate ``spec`` against the dev-eval dataset; the warehouse is read through ``connect`` (the caller
    stores the run). Raises GateSetupError for what must be fixed before a gate can run."""
    margin = config.gate.margin if options.margin is None else options.margin
    if not 0 <= margin < 1:
        msg = f"The margin is a tolerated drop in pass rate between 0 and 1 (0.02 = 2 points), got {margin}."
        raise GateSetupError(msg)
    if config.gate.unknown_candidate not in ("fail", "exclude"):
        msg = f"gate.unknown_candidate is {config.gate.unknown_candidate!r}; use 'fail' or 'exclude'."
        raise GateSetupError(msg)
    judges = gating_judges(config, options.judges, endpoint)
    with connect() as con:
        end = window_of_version(con, options.dataset_version) if options.dataset_version else options.end
        inputs = load_inputs(con, config, key, end)
    minimum = config.gate.min_records if options.min_records is None else options.min_records
    if len(inputs.production) < minimum:
        msg = (f"The dev-eval dataset {inputs.dataset_version} has {len(inputs.production)} records, fewer than "
               f"the {minimum} a gate needs (gate.min_records / --min-records): widen dev_eval.window_days or "
               "raise sampling.target_size and rebuild it (see 'How many records' in the README).")
        raise GateSetupError(msg)
    candidate = open_candidate(spec, config.judging)
    gated_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    run = GateRun(f"{gated_at:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}", gated_at, spec, inputs, margin, judges,
                  endpoint.model)
    settings = judge_settings(config, endpoint, seed=f"gate/{inputs.dataset_version}/{spec.label()}")
    # Only a model's calls have a price; the others must not wait on the budget's one-call-at-a-time start.
    budget = settings.budget_usd if spec.kind == "litellm" else None
    run.calls = call_candidate(candidate, inputs.records, config.judging, budget, key, config.privacy)
    if not _candidate_answered(run):
        return run
    _judge(run, config, settings, connect)
    if _judges_failed(run, settings):
        return run
    _compare(run, config)
    return run


def _candidate_answered(run: GateRun) -> bool:
    calls = run.calls
    assert calls is not None
    if calls.failed and len(calls.failed) == len(calls.responses):
        first = calls.failed[0]
        run.reasons = [f"The candidate answered none of the {len(calls.responses)} requests (first error: "
                       f"{first.error}); check that it is running and reachable ({run.candidate.target})."]
        return False
    if any(r.error_kind == "budget_exhausted" for r in calls.failed):
        run.reasons = ["The judging budget (judging.budget_usd) ran out while calling the candidate; raise it "
                       "and gate again."]
        return False
    return True


def candidate_record(record: GateRecord, response: CandidateResponse) -> dict[str, Any]:
    """The candidate's answer to ``record`` as the judges see a record: the same request, context and
    reference answer as production, the candidate's response, tool calls, status and latency."""
    calls = response.tool_calls or []
    return {"trace_id": record.record_id, "request": record.request, "response": response.response,
            "status": response.status, "tool_path": [c.get("name") for c in calls], "tool_calls": calls,
            "retrieved_context": list(record.retrieved_context) or None, "latency_ms": response.latency_ms,
            "expected_response": record.expected_response}


def _remaining(settings: JudgeSettings, spent: float) -> JudgeSettings:
    if settings.budget_usd is None:
        return settings
    left = max(settings.budget_usd - spent, 1e-12)
    return dataclasses.replace(settings, judging=dataclasses.replace(settings.judging, budget_usd=left))


def _judge(run: GateRun, config: Config, settings: JudgeSettings, connect: Connect) -> None:
    production, curated = run.inputs.production, run.inputs.curated
    answers = run.responses()
    records = ([r.production or {} for r in production]
               + [candidate_record(r, answers[r.record_id]) for r in [*production, *curated]])
    lookup = cache_lookup(connect)
    spent = run.calls.spent_usd if run.calls else 0.0
    scored = judge_records(records, run.judges, _remaining(settings, spent), lookup=lookup)
    run.judge_runs.append(scored)
    n, p = len(records), len(production)
    for i, judge in enumerate(run.judges):
        verdicts = scored.verdicts[i * n:(i + 1) * n]
        run.production[judge], run.candidate_verdicts[judge] = verdicts[:p], verdicts[p:2 * p]
        run.curated_verdicts[judge] = verdicts[2 * p:]
    if not (config.gate.pairwise and settings.endpoint.model):
        return
    # Identical responses are a tie without a call; the others are asked in both orders.
    both = [((r.production or {}).get("response"), answers[r.record_id].response) for r in production]
    differ = [i for i, (prod, cand) in enumerate(both) if prod != cand]
    pairs = [{"trace_id": production[i].record_id, "request": production[i].request,
              "response_1": both[i][order], "response_2": both[i][1 - order]} for order in (0, 1) for i in differ]
    compared = judge_records(pairs, [PAIRWISE_JUDGE.name], _remaining(settings, spent + scored.cost_usd),
                             lookup=lookup, extra={PAIRWISE_JUDGE.name: PAIRWISE_JUDGE})
    run.judge_runs.append(compared)
    orders: tuple[list[Verdict], list[Verdict]] = ([_tie(r.record_id) for r in production],
                                                   [_tie(r.record_id) for r in production])
    for k, i in enumerate(differ):
        orders[0][i], orders[1][i] = compared.verdicts[k], compared.verdicts[len(differ) + k]
    run.pairwise_verdicts = orders


def _tie(record_id: str) -> Verdict:
    return Verdict(PAIRWISE_JUDGE.name, "tie", "the two responses are identical", None,  # type: ignore[arg-type]
                   None, PAIRWISE_JUDGE.prompt_version, None, None, 0.0, None, trace_id=record_id)


def _judges_failed(run: GateRun, settings: JudgeSettings) -> bool:
    """A gate whose judges could not judge is an error, never a verdict."""
    verdicts = [v for scored in run.judge_runs for v in scored.verdicts]
    if any(v.unknown_reason == BUDGET_EXHAUSTED for v in verdicts):
        run.reasons = [f"The judging budget of {settings.budget_usd} USD (judging.budget_usd) ran out before every "
                       "judgement was made; raise it and gate again (judgements made so far are cached)."]
        return True
    failed = [v for v in verdicts if v.unknown_reason in CALL_FAILURES]
    answered = [v for v in verdicts if v.model and (v.cached or v.input_tokens is not None or v.verdict != "unknown")]
    if failed and not answered:
        run.reasons = [f"Every judge call failed ({len(failed)}); first error: {failed[0].rationale}. Check "
                       "EVAL_JUDGE_MODEL, EVAL_JUDGE_API_BASE and the provider key."]
        return True
    return False


def _compare(run: GateRun, config: Config) -> None:
    production = run.inputs.production
    pi = run.inputs.inclusion_probabilities()
    run.comparisons = [compare.compare_judge(j, run.production[j], run.candidate_verdicts[j], production,
                                             margin=run.margin, unknown_candidate=config.gate.unknown_candidate,
                                             pi=pi)
                       for j in run.judges]
    run.curated, run.must_pass_failures = compare.curated_results(run.judges, run.curated_verdicts,
                                                                  run.inputs.curated)
    if run.pairwise_verdicts is not None:
        run.pairwise = compare.pairwise(*run.pairwise_verdicts, production, pi)
    passed, run.reasons = compare.decide(run.comparisons, run.must_pass_failures, run.margin)
    run.verdict = "pass" if passed else "fail"
