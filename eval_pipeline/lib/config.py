"""The YAML configuration (``EVAL_CONFIG``): sampling, quality thresholds and judges.

Every key is optional; defaults make the demo work. Unknown keys are errors, so a typo never silently
falls back to a default.
"""

import functools
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, get_args

import yaml


@dataclass(frozen=True)
class Filters:
    """A slice of the traffic: empty means no restriction."""

    services: tuple[str, ...] = ()
    models: tuple[str, ...] = ()  # a trace matches when any of its models is listed
    start_date: str = ""  # ISO dates; days outside [start_date, end_date] get an empty dataset
    end_date: str = ""
    # A SQL predicate over masked_traces columns, e.g. "root_span_name = 'checkout'"; no subqueries.
    where: str = ""


@dataclass(frozen=True)
class Sampling:
    target_size: int = 200
    min_per_stratum: int = 3
    error_oversample: float = 3.0
    # Sparse strata merge (lib/strata.py) until their proportional share of target_size reaches this many
    # records; 0 keeps every tool signature x status x latency tier x model cell as its own stratum.
    merge_strata_below: float = 8.0
    # The strata pooling tool paths too rare for a stratum of their own count this many times in the allocation.
    rare_path_oversample: float = 3.0
    # Part of the membership hash: change it to draw a different (still deterministic) sample.
    seed: str = "eval-pipeline"
    # Latency tiers: the day's own quantiles, unless SLO thresholds (ms) are given.
    latency_quantiles: tuple[float, ...] = (0.5, 0.9, 0.99)
    latency_slo_ms: tuple[float, ...] = ()
    # Caps on the expected number of records per session / user; 0 means no cap.
    max_per_session: int = 5
    max_per_user: int = 20
    filters: Filters = field(default_factory=Filters)


@dataclass(frozen=True)
class DatasetChecks:
    min_size: int = 1
    max_size: int = 1000
    error_share_tolerance: float = 0.1  # absolute, on the share of error records
    weight_sum_tolerance: float = 0.1  # relative, on the weighted count vs. eligible traces
    drift_days: int = 7  # trailing days the stratum mix is compared with
    psi_warn: float = 0.1
    psi_error: float = 0.25
    # The mix is compared on bins of at least this many of the day's traces (sparse cells merged), and a
    # shift is reported only when the chi-square test of equal mixes also gives p < alpha.
    min_bin_traces: float = 20.0
    alpha: float = 0.01


@dataclass(frozen=True)
class DevEval:
    window_days: int = 7  # the dev-eval dataset of day D unites the daily datasets of D-6 .. D
    # JSON-lines files of hand-written or adversarial records (request, expected_response, tags, must_pass)
    # that the release gate puts to the candidate beside the production records: masked like every
    # other text, never weighted into production estimates, reported as their own section.
    curated: tuple[str, ...] = ()


@dataclass(frozen=True)
class GateCandidate:
    """A release candidate declared in the config, gated by name from the Dagster UI: exactly one of
    ``model`` (a litellm model string, with ``api_base`` and ``system_prompt_file``), ``fn``
    (``package.module:function``) or ``url`` (an HTTP endpoint taking and returning JSON)."""

    name: str = ""
    model: str = ""
    api_base: str = ""
    system_prompt_file: str = ""
    fn: str = ""
    url: str = ""


@dataclass(frozen=True)
class Gate:
    """The release gate: the candidate must not lose more than ``margin`` (pass rate, 0.02 = 2 points)
    on any gating judge, at 95 % confidence."""

    margin: float = 0.02
    judges: tuple[str, ...] = ()  # the gating judges; empty: judging.judges and the custom judges
    min_records: int = 30  # fewer production records than this is a set-up error, not a verdict
    pairwise: bool = True  # also ask the pairwise judge (two calls per record), reported, not gating
    unknown_candidate: str = "fail"  # a candidate verdict the judge could not give: 'fail' or 'exclude'
    candidates: tuple[GateCandidate, ...] = ()


@dataclass(frozen=True)
class Quality:
    max_quarantine_share: float = 0.05


@dataclass(frozen=True)
class Ingest:
    """Reading the landing zone."""

    # A file, or its decompressed content, above this size is quarantined unread (bounds a parser's memory).
    max_file_mb: int = 256

    def __post_init__(self) -> None:
        if self.max_file_mb < 1:
            msg = f"ingest.max_file_mb must be at least 1 (MiB), got {self.max_file_mb}."
            raise ValueError(msg)


@dataclass(frozen=True)
class Retention:
    """How long span-level data is kept."""

    # Spans and cached Parquet of days older than this many days are dropped (their traces, datasets, scores
    # and dashboards are kept); 0 keeps everything.
    span_days: int = 0

    def __post_init__(self) -> None:
        if self.span_days < 0:
            msg = f"retention.span_days must be 0 (keep everything) or a number of days, got {self.span_days}."
            raise ValueError(msg)


@dataclass(frozen=True)
class CustomJudge:
    """A guideline judge: an LLM judge whose rubric is ``guideline``, for the records it applies to
    (``tools``: traces that called any of them, empty for all; ``status``: 'any', 'ok' or 'error')."""

    name: str = ""
    guideline: str = ""
    tools: tuple[str, ...] = ()
    status: str = "any"


@dataclass(frozen=True)
class Judging:
    judges: tuple[str, ...] = ("no_error", "non_empty_response", "relevance")
    concurrency: int = 8
    timeout_s: float = 60.0
    num_retries: int = 2
    backoff_s: float = 0.5  # the first retry's wait, doubled on each retry (with jitter), at most max_backoff_s
    max_backoff_s: float = 30.0
    max_tokens: int = 512
    # USD a run may spend on judge calls; 0 means no limit.
    budget_usd: float = 0.0
    # Prices for a model missing from litellm's price map, in USD per million tokens; 0 means not set.
    input_price_per_mtok: float = 0.0
    output_price_per_mtok: float = 0.0
    latency_slo_ms: float = 10_000.0
    # Custom guideline judges; each runs on every day, listed in ``judges`` or not.
    custom: tuple[CustomJudge, ...] = ()
    # Human labels: a CSV or JSON-lines file with trace_id, judge, label (besides the human_labels
    # table and the traces' own feedback); judge_agreement warns when Cohen's kappa is below min_kappa.
    labels_file: str = ""
    min_kappa: float = 0.6


@dataclass(frozen=True)
class Monitoring:
    """Thresholds of the drift and regression checks on the dashboards (today vs trailing 7 days)."""

    # One-sided significance of a pass-rate drop (Holm over the day's comparisons: the chance that a steady day
    # raises a false regression alarm), also of an error-rate jump and a tool-path mix shift.
    alpha: float = 0.001
    min_baseline_days: int = 3
    min_effective_n: float = 30.0  # per stratum comparisons need this many on both sides
    psi_warn: float = 0.1
    psi_error: float = 0.25
    min_bin_traces: float = 20.0  # tool paths with fewer of the day's traces are pooled into one bin
    latency_p95_jump: float = 1.5  # today's p95 / trailing mean
    error_rate_jump: float = 2.0
    unknown_rate_max: float = 0.2  # per judge: calls that gave no answer, among those it could answer
    cost_per_record_jump: float = 2.0
    # Share of records the LLM judges score in runs the landing sensor requests (code judges: all);
    # the nightly run judges the rest.
    live_judge_sample_rate: float = 1.0


@dataclass(frozen=True)
class Privacy:
    """Row policy and detectors of masked_traces."""

    # A trace is dropped when any of its spans (or their resource) sets one of these attributes to true.
    opt_out_attributes: tuple[str, ...] = ("eval.opt_out",)
    drop_services: tuple[str, ...] = ()  # traces of these service.name values are dropped
    drop_tenants: tuple[str, ...] = ()  # traces whose tenant (below) is listed are dropped
    tenant_attributes: tuple[str, ...] = ("tenant.id", "tenant")  # span or resource attributes naming the tenant
    # "presidio" (default): names, places and organisations in eval records through Presidio and a spaCy
    # model; "" switches the name tier off.
    name_detector: str = "presidio"
    spacy_model: str = "en_core_web_sm"
    name_entities: tuple[str, ...] = ("PERSON", "LOCATION", "ORGANIZATION")
    # Which URLs the detectors mask: "all", "credentials_only" (credentials and tokens in URLs) or "none".
    urls: str = "all"

    def __post_init__(self) -> None:
        for name, value, allowed in (("name_detector", self.name_detector, NAME_DETECTORS),
                                     ("urls", self.urls, URL_MODES)):
            if value not in allowed:
                msg = f"privacy.{name} is {value!r}; use one of {list(allowed)}."
                raise ValueError(msg)
        unknown = sorted(set(self.name_entities) - set(NAME_ENTITIES))
        if unknown:
            msg = f"privacy.name_entities has {unknown}; use some of {list(NAME_ENTITIES)}."
            raise ValueError(msg)


# The values the privacy settings take (lib/masking reads the same names; a test keeps them in step).
NAME_DETECTORS = ("presidio", "")
NAME_ENTITIES = ("PERSON", "LOCATION", "ORGANIZATION")
URL_MODES = ("all", "credentials_only", "none")


@dataclass(frozen=True)
class Config:
    sampling: Sampling = field(default_factory=Sampling)
    dataset_checks: DatasetChecks = field(default_factory=DatasetChecks)
    dev_eval: DevEval = field(default_factory=DevEval)
    gate: Gate = field(default_factory=Gate)
    quality: Quality = field(default_factory=Quality)
    ingest: Ingest = field(default_factory=Ingest)
    retention: Retention = field(default_factory=Retention)
    judging: Judging = field(default_factory=Judging)
    monitoring: Monitoring = field(default_factory=Monitoring)
    privacy: Privacy = field(default_factory=Privacy)


def _build(cls: type, data: Any, where: str) -> Any:
    if data is None:
        return cls()
    if not isinstance(data, dict):
        msg = f"{where} must be a mapping of settings, got {type(data).__name__}."
        raise ValueError(msg)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        msg = f"Unknown setting(s) {unknown} in {where}; known settings are {sorted(known)}."
        raise ValueError(msg)
    kwargs = {}
    for name, value in data.items():
        f = known[name]
        default = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
        if is_dataclass(default):
            kwargs[name] = _build(type(default), value, f"{where}.{name}")
        elif isinstance(default, tuple):
            if not isinstance(value, list):
                msg = f"{where}.{name} must be a list, got {value!r}."
                raise ValueError(msg)
            item = get_args(f.type)[0] if get_args(f.type) else None
            if is_dataclass(item):
                kwargs[name] = tuple(_build(item, v, f"{where}.{name}[{i}]") for i, v in enumerate(value))
            else:
                kwargs[name] = tuple(value)
        elif isinstance(default, float) and type(value) in (int, float):
            kwargs[name] = float(value)
        elif type(value) is type(default):
            kwargs[name] = value
        else:
            msg = f"{where}.{name} must be of type {type(default).__name__}, got {value!r}."
            raise ValueError(msg)
    return cls(**kwargs)


def load_config(path: str | Path | None) -> Config:
    """Read the YAML config; ``None`` means all defaults. Parsed once per file version: the result is cached
    by path, modification time and size, so a run's steps share one parse and an edited file is read again."""
    if path is None:
        return Config()
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        st = None
    if st is None or not p.is_file():
        msg = f"The config file {p} (EVAL_CONFIG) does not exist; unset EVAL_CONFIG to use the defaults."
        raise FileNotFoundError(msg)
    return _parse(str(p.resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _parse(path: str, _mtime_ns: int, _size: int) -> Config:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        msg = f"The config file {p} is not valid YAML: {exc}"
        raise ValueError(msg) from None
    return _build(Config, data, p.name)
