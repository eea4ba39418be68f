"""Validate a polars frame against data-quality rules with Great Expectations 1.x.

GX 1.x has no polars or DuckDB data source, so the frame goes through ``to_pandas()`` into an ephemeral
context with a suite built in code, one validation per call. GX reports a rule it could not evaluate (a
missing column, a wrong argument, an engine error) as an ordinary failure carrying ``exception_info``;
this adapter raises on those instead, so a bug never looks like a data-quality finding and a data problem
never passes. GX is imported inside :func:`validate` because the import costs seconds.
"""

import datetime as dt
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

# Key under an expectation's ``meta`` that carries the index of the rule it came from: GX returns
# results in its own order, not the suite's.
_RULE_INDEX_KEY = "eval_pipeline_rule_index"
_SAMPLE_SIZE = 20
_GX_LOCK = threading.Lock()
# Keys of a GX result that repeat the sample or only matter to GX's renderers.
_DROPPED_RESULT_KEYS = ("partial_unexpected_list", "partial_unexpected_index_list")


@dataclass(frozen=True)
class Rule:
    """One expectation: ``expectation`` is a GX class name such as ``ExpectColumnValuesToNotBeNull``."""

    name: str
    expectation: str
    kwargs: dict = field(default_factory=dict)
    description: str = ""


@dataclass
class RuleResult:
    """The outcome of one rule; ``details`` is GX's summary result made JSON-safe."""

    name: str
    success: bool
    unexpected_count: int | None
    unexpected_sample: list
    details: dict


def validate(df: "pl.DataFrame", rules: Sequence[Rule]) -> list[RuleResult]:
    """Validate ``df`` against ``rules`` and return one result per rule, in the order of ``rules``.

    Raises ``ValueError`` when a rule is malformed or GX could not evaluate it (for example a column
    that does not exist), naming the rule and the GX error.
    """
    rules = list(rules)
    if not rules:
        return []
    _check_unique_names(rules)

    gx, gxe = _import_gx()
    with _GX_LOCK:
        return _validate(gx, gxe, df, rules)


def _validate(gx: Any, gxe: Any, df: "pl.DataFrame", rules: list[Rule]) -> list[RuleResult]:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # get_context() also installs the context as GX's process-wide current project, which the suite
    # binds to on creation; hence the context comes first and the lock around the whole validation.
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    suite = gx.ExpectationSuite(name="eval_pipeline_rules")
    for index, rule in enumerate(rules):
        expectation = _build_expectation(gxe, rule, index)
        added = suite.add_expectation(expectation)
        if not any(existing is added for existing in suite.expectations):
            twin = next((r.name for r in rules[:index] if _same_check(r, rule)), "an earlier rule")
            msg = (
                f"Rule {rule.name!r} repeats {twin!r}: the same expectation with the same arguments, "
                "which GX would run only once; drop one of them."
            )
            raise ValueError(msg)

    batch = (
        context.data_sources.add_pandas("eval_pipeline")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole_frame")
        .get_batch(batch_parameters={"dataframe": df.to_pandas()})
    )
    try:
        validation = batch.validate(
            suite,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": _SAMPLE_SIZE},
        )
    except Exception as exc:
        msg = f"Great Expectations failed to run the {len(rules)} rules: {type(exc).__name__}: {exc}"
        raise ValueError(msg) from exc

    by_index: dict[int, Any] = {}
    for result in validation.results:
        by_index[result.expectation_config.meta[_RULE_INDEX_KEY]] = result

    outcomes = []
    for index, rule in enumerate(rules):
        result = by_index.get(index)
        if result is None:
            msg = f"Great Expectations returned no result for rule {rule.name!r} ({rule.expectation})."
            raise ValueError(msg)
        errors = _exception_messages(result.exception_info)
        if errors:
            msg = (
                f"Rule {rule.name!r} ({rule.expectation}) could not be evaluated: {'; '.join(errors)}. "
                "This is an error in the rule or the frame's columns, not a data-quality finding."
            )
            raise ValueError(msg)
        summary = dict(result.result or {})
        count = summary.get("unexpected_count")
        outcomes.append(
            RuleResult(
                name=rule.name,
                success=bool(result.success),
                unexpected_count=None if count is None else int(count),
                unexpected_sample=_plain(summary.get("partial_unexpected_list") or [])[:_SAMPLE_SIZE],
                details=_plain({k: v for k, v in summary.items() if k not in _DROPPED_RESULT_KEYS}),
            )
        )
    return outcomes


def _import_gx() -> tuple[Any, Any]:
    # GX logs at INFO from import onwards and pins one of its module loggers to INFO itself; an
    # explicit level set by the application on the package logger is left alone.
    package_logger = logging.getLogger("great_expectations")
    if package_logger.level == logging.NOTSET:
        package_logger.setLevel(logging.WARNING)
    import great_expectations as gx
    import great_expectations.expectations as gxe

    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    return gx, gxe


def _check_unique_names(rules: list[Rule]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            msg = f"Two rules are named {rule.name!r}; give every rule a unique name."
            raise ValueError(msg)
        seen.add(rule.name)


def _build_expectation(gxe: Any, rule: Rule, index: int) -> Any:
    cls = getattr(gxe, rule.expectation, None)
    if not (isinstance(cls, type) and issubclass(cls, gxe.Expectation) and cls is not gxe.Expectation):
        msg = (
            f"Rule {rule.name!r} names {rule.expectation!r}, which is not an expectation class in "
            "great_expectations.expectations; use a class name such as 'ExpectColumnValuesToNotBeNull'."
        )
        raise ValueError(msg)
    kwargs = dict(rule.kwargs)
    kwargs["meta"] = {**(kwargs.get("meta") or {}), _RULE_INDEX_KEY: index}
    try:
        return cls(**kwargs)
    except Exception as exc:
        msg = f"Rule {rule.name!r} has invalid arguments for {rule.expectation}: {exc}"
        raise ValueError(msg) from exc


def _same_check(a: Rule, b: Rule) -> bool:
    return a.expectation == b.expectation and _without_meta(a.kwargs) == _without_meta(b.kwargs)


def _without_meta(kwargs: dict) -> dict:
    return {k: v for k, v in kwargs.items() if k not in ("meta", "notes")}


def _exception_messages(info: Any) -> list[str]:
    """Messages of raised exceptions in GX's ``exception_info``.

    GX uses two shapes: one flat dict, or a dict keyed by metric id whose values are flat dicts.
    """
    if not info:
        return []
    if "raised_exception" in info:
        entries = [info]
    else:
        entries = [v for v in info.values() if isinstance(v, dict)]
    messages = []
    for entry in entries:
        if entry.get("raised_exception"):
            message = (entry.get("exception_message") or "unknown error").strip().rstrip(".")
            if message not in messages:
                messages.append(message)
    return messages


def _plain(value: Any) -> Any:
    """``value`` with numpy and pandas scalars, NaN and timestamps turned into JSON-safe Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        # numpy scalars, and arrays: list cells arrive from to_pandas() as numpy arrays.
        try:
            return _plain(tolist())
        except (TypeError, ValueError):
            pass
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    return str(value)
