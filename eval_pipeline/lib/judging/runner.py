"""Run judges on records: code judges in process, LLM judges through litellm, with the judgement cache.

Every judge gives one :class:`Verdict` per record. A judgement of an LLM judge is identified by
:func:`cache_key` (judge, prompt version, model, decoding parameters, input hash); keys found by the
``lookup`` callback are reused without a call (``cached = True``), and identical inputs within a run are
judged once. A judge's abstention (``judge_abstained``) is its answer and is cached like a verdict; a
failed call is not. Under a budget the calls run in a seeded random order and stop before the budget would be
exceeded, so the judged records stay an unbiased sample of the day; the rest are ``unknown`` /
``budget_exhausted``. How one call is made (slots, retries, timeouts) is in ``calls.py``.
"""

import asyncio
import concurrent.futures
import dataclasses
import hashlib
import json
import random
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eval_pipeline.lib.judging.calls import (
    PREPARED_AHEAD,
    Budget,
    Call,
    Session,
    import_litellm,
    judge_call,
    openai_client,
    unknown,
)
from eval_pipeline.lib.judging.catalog import LLMJudge, llm_judges
from eval_pipeline.lib.judging.code_judges import CODE_JUDGES
from eval_pipeline.lib.judging.prices import register_prices
from eval_pipeline.lib.judging.settings import JudgeSettings
from eval_pipeline.lib.judging.verdict import (
    JUDGE_ABSTAINED,
    NO_MODEL_CONFIGURED,
    Record,
    Verdict,
    is_judgement,
)

# Returns the stored judgements among the cache keys it is given (verdict, rationale, input_tokens,
# output_tokens, cost_usd, latency_ms by key).
Lookup = Callable[[list[str]], Mapping[str, Mapping[str, Any]]]


@dataclass
class JudgingRun:
    """The verdicts of a run (grouped by judge, in record order) and what the run spent."""

    verdicts: list[Verdict]
    calls: int = 0  # HTTP requests sent, retries included
    cache_hits: int = 0
    cost_usd: float = 0.0  # spent by this run (cached judgements cost nothing)
    input_tokens: int = 0
    output_tokens: int = 0
    budget_usd: float | None = None
    budget_exhausted: int = 0
    new_judgements: list[tuple[str, Verdict]] = field(default_factory=list)  # (cache key, verdict) to store


def input_hash(payload: Mapping[str, Any]) -> str:
    """sha256 of what a judge is shown, independent of the per-call delimiter."""
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def cache_key(judge: LLMJudge, model: str, parameters: str, payload_hash: str) -> str:
    """The identity of a judgement: (judge, prompt version, model, decoding parameters, input hash).
    Stored in judge_cache: changing how it is computed would make every stored judgement a miss."""
    parts = [judge.name, judge.prompt_version, model, parameters, payload_hash]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def judge_records(
    records: Sequence[Record],
    judges: Sequence[str],
    settings: JudgeSettings | None = None,
    *,
    lookup: Lookup | None = None,
    extra: Mapping[str, LLMJudge] | None = None,
) -> JudgingRun:
    """Run the named judges (code, built-in LLM and custom, and the LLM judges in ``extra``, such as the
    release gate's pairwise judge) on every record.

    The verdicts come grouped by judge in the order of ``judges``, each group in record order, so there
    are ``len(judges) * len(records)`` of them. ``lookup`` receives the cache keys of the judgements to
    make and returns the stored ones; those are reused without a call. Works from inside a running
    event loop too.
    """
    settings = settings or JudgeSettings()
    records = list(records)
    catalog = {**llm_judges(settings.judging.custom), **(extra or {})}
    missing = [name for name in judges if name not in CODE_JUDGES and name not in catalog]
    if missing:
        known = ", ".join(sorted([*CODE_JUDGES, *catalog]))
        msg = f"Unknown judge(s) {', '.join(map(repr, missing))}; the judges available are: {known}."
        raise ValueError(msg)
    concurrency = settings.judging.concurrency
    if concurrency < 1:
        msg = f"concurrency must be at least 1, got {concurrency}; set how many judge calls may run at once."
        raise ValueError(msg)

    run = JudgingRun(verdicts=[], budget_usd=settings.budget_usd)
    llm_names = [name for name in dict.fromkeys(judges) if name in catalog]
    llm_verdicts: dict[str, list[Verdict]] = {}
    if llm_names and records:
        llm_verdicts = run_sync(_run_llm_judges(records, [catalog[n] for n in llm_names], settings, lookup, run))
    for name in judges:
        if name in CODE_JUDGES:
            run.verdicts.extend(CODE_JUDGES[name](record, settings.judging) for record in records)
        else:
            run.verdicts.extend(llm_verdicts.get(name, []))
    return run


async def run_llm_judge(records: Sequence[Record], settings: JudgeSettings | None = None, *,
                        judge: str = "relevance") -> list[Verdict]:
    """One verdict per record, in record order, from the LLM judge ``judge`` (no cache)."""
    settings = settings or JudgeSettings()
    catalog = llm_judges(settings.judging.custom)
    if judge not in catalog:
        msg = f"Unknown LLM judge {judge!r}; the LLM judges available are: {', '.join(sorted(catalog))}."
        raise ValueError(msg)
    run = JudgingRun(verdicts=[])
    return (await _run_llm_judges(list(records), [catalog[judge]], settings, None, run))[judge]


async def _run_llm_judges(records: list[Record], specs: list[LLMJudge], settings: JudgeSettings,
                          lookup: Lookup | None, run: JudgingRun) -> dict[str, list[Verdict]]:
    model = settings.endpoint.model or None
    parameters = json.dumps(settings.parameters(), sort_keys=True)
    results: dict[str, list[Verdict | None]] = {spec.name: [None] * len(records) for spec in specs}
    calls = _plan(records, specs, model, parameters, results)
    stored = lookup([c.key for c in calls]) if (lookup and calls) else {}
    pending = []
    for call in calls:
        hit = stored.get(call.key)
        if hit is not None:
            run.cache_hits += 1
            results[call.spec.name][call.slot] = _cached(call, model, parameters, hit)
        else:
            pending.append(call)
    if pending:
        await _call_pending(pending, settings, parameters, run, results)
    return {name: [v for v in verdicts if v is not None] for name, verdicts in results.items()}


def _plan(records: list[Record], specs: list[LLMJudge], model: str | None, parameters: str,
          results: dict[str, list[Verdict | None]]) -> list[Call]:
    """The calls to make; the judgements that need none (no model, nothing to grade) go into ``results``."""
    calls: list[Call] = []
    for spec in specs:
        for i, record in enumerate(records):
            if model is None:
                # Without a model nothing is graded, whatever the record holds.
                results[spec.name][i] = unknown(spec, record, None, NO_MODEL_CONFIGURED, "no judge model configured")
                continue
            built = spec.payload(record)
            if isinstance(built, tuple):
                reason, rationale = built
                results[spec.name][i] = unknown(spec, record, model, reason, rationale, parameters=parameters)
            else:
                h = input_hash(built)
                calls.append(Call(i, spec, record, built, cache_key(spec, model, parameters, h), h))
    return calls


async def _call_pending(pending: list[Call], settings: JudgeSettings, parameters: str, run: JudgingRun,
                        results: dict[str, list[Verdict | None]]) -> None:
    litellm = import_litellm()
    prices = register_prices(litellm, settings)
    # A seeded random order: under a budget, the records judged before it runs out are a random
    # sample of the day, not the first trace ids.
    random.Random(settings.seed).shuffle(pending)
    # Identical inputs to the same judge (duplicated traces) are judged once.
    first: dict[str, Call] = {}
    unique = [first.setdefault(call.key, call) for call in pending if call.key not in first]
    client = openai_client(litellm, settings)
    # With the limit enforced on the HTTP requests themselves (openai-compatible servers), a few
    # more calls than the limit may be prepared by litellm meanwhile, so a slot never waits on
    # litellm's own work; otherwise the limit applies to whole calls.
    concurrency = settings.judging.concurrency
    slots = asyncio.Semaphore(concurrency * PREPARED_AHEAD if client else concurrency)
    session = Session(litellm, settings, parameters, slots, Budget(settings.budget_usd), prices, run, client)
    try:
        await asyncio.gather(*(judge_call(call, session) for call in unique))
    finally:
        if client is not None:
            await client.close()
    for call in pending:
        origin = first[call.key]
        result = origin.result
        if result is not None and call is not origin:
            result = dataclasses.replace(result, trace_id=call.record.get("trace_id"), cached=is_judgement(result))
        results[call.spec.name][call.slot] = result
        if call is origin and result is not None and is_judgement(result):
            run.new_judgements.append((call.key, result))


def _cached(call: Call, model: str | None, parameters: str, hit: Mapping[str, Any]) -> Verdict:
    return Verdict(
        judge=call.spec.name,
        verdict=hit["verdict"],
        rationale=hit["rationale"],
        unknown_reason=JUDGE_ABSTAINED if hit["verdict"] == "unknown" else None,
        model=model,
        prompt_version=call.spec.prompt_version,
        input_tokens=hit.get("input_tokens"),
        output_tokens=hit.get("output_tokens"),
        cost_usd=hit.get("cost_usd"),
        latency_ms=hit.get("latency_ms"),
        cached=True,
        trace_id=call.record.get("trace_id"),
        parameters=parameters,
        input_hash=call.payload_hash,
    )


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from async code (a notebook, an async asset): run on a private loop in another thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
