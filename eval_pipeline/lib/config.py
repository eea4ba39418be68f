"""The YAML configuration (``EVAL_CONFIG``): sampling, quality thresholds and judges.

Every key is optional; defaults make the demo work. Unknown keys are errors, so a typo never silently
falls back to a default.
"""

from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Sampling:
    target_size: int = 200
    min_per_stratum: int = 3
    error_oversample: float = 3.0
    # Part of the membership hash: change it to draw a different (still deterministic) sample.
    seed: str = "eval-pipeline"


@dataclass(frozen=True)
class Quality:
    max_quarantine_share: float = 0.05


@dataclass(frozen=True)
class Judging:
    judges: tuple[str, ...] = ("no_error", "non_empty_response", "relevance")
    concurrency: int = 8
    timeout_s: float = 60.0
    num_retries: int = 2


@dataclass(frozen=True)
class Config:
    sampling: Sampling = field(default_factory=Sampling)
    quality: Quality = field(default_factory=Quality)
    judging: Judging = field(default_factory=Judging)


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
    """Read the YAML config; ``None`` or a missing default means all defaults."""
    if path is None:
        return Config()
    p = Path(path)
    if not p.is_file():
        msg = f"The config file {p} (EVAL_CONFIG) does not exist; unset EVAL_CONFIG to use the defaults."
        raise FileNotFoundError(msg)
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        msg = f"The config file {p} is not valid YAML: {exc}"
        raise ValueError(msg) from None
    return _build(Config, data, p.name)
