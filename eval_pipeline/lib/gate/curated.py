"""Curated suites: hand-written or adversarial records the release gate puts to the candidate beside the
production records (``dev_eval.curated``: JSON-lines files).

One record per line: ``{"request": "...", "expected_response": "...", "tags": ["..."], "must_pass": true,
"id": "..."}``; only ``request`` is required (``reference`` is accepted for ``expected_response``). A line
that is not such a record becomes a problem (file, line, reason; a quarantine row) and the other lines
are kept. Records are masked with the traces' key and detectors (and the name tier when configured), so
the candidate and the judges see curated text exactly as they see production text. They carry weight 1
and are never weighted into a production estimate.
"""

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from eval_pipeline.lib import masking
from eval_pipeline.lib.config import Privacy
from eval_pipeline.lib.gate.errors import GateSetupError
from eval_pipeline.lib.judging.verdict import is_blank

_KEYS = {"id", "request", "expected_response", "reference", "tags", "must_pass"}
_EXCERPT_CHARS = 200


@dataclass(frozen=True)
class CuratedRecord:
    """One curated record, masked: ``record_id`` is ``curated:<file stem>:<id or line>``."""

    record_id: str
    source_file: str
    request: str
    expected_response: str | None
    tags: tuple[str, ...]
    must_pass: bool


@dataclass(frozen=True)
class Problem:
    """A line of a curated file that is not a record: where, why and a masked excerpt."""

    source_file: str
    position: int
    reason: str
    excerpt: str


@functools.cache
def name_detector(detector: str, spacy_model: str) -> masking.NameDetector | None:
    """The configured name tier (``privacy.name_detector``), loaded once per process: the gate masks the
    curated records and the candidate's answers with it, as masked_traces masks the traces."""
    return masking.load_name_detector(detector, spacy_model)


def read_curated(paths: tuple[str, ...], key: bytes, privacy: Privacy) -> tuple[list[CuratedRecord], list[Problem]]:
    """Every curated file's records, masked, and the lines that could not be read. A listed file that does
    not exist is a set-up error."""
    raw: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for name in paths:
        path = Path(name)
        if not path.is_file():
            msg = f"The curated file {path} (dev_eval.curated) does not exist; fix the path or remove it."
            raise GateSetupError(msg)
        _read_file(path, raw, problems)
    if not raw and not problems:
        return [], []
    names = name_detector(privacy.name_detector, privacy.spacy_model)
    frame = pl.DataFrame({"request": [r["request"] for r in raw],
                          "response": [r["expected_response"] for r in raw]},
                         schema={"request": pl.String, "response": pl.String})
    masked, _ = masking.mask_frame(frame, key, names)
    tags = masking.mask_series(pl.Series("tags", [t for r in raw for t in r["tags"]], dtype=pl.String), key)
    tag_texts = iter(tags.texts.to_list())
    records = [CuratedRecord(r["record_id"], r["source_file"], request, expected,
                             tuple(next(tag_texts) for _ in r["tags"]), r["must_pass"])
               for r, request, expected in zip(raw, masked["request"], masked["response"], strict=True)]
    excerpts = masking.mask_series(pl.Series("excerpt", [p.excerpt for p in problems], dtype=pl.String), key)
    problems = [Problem(p.source_file, p.position, p.reason, text)
                for p, text in zip(problems, excerpts.texts.to_list(), strict=True)]
    return records, problems


def _read_file(path: Path, out: list[dict[str, Any]], problems: list[Problem]) -> None:
    seen: set[str] = set()
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = _record(json.loads(line))
            except (ValueError, TypeError) as exc:
                problems.append(Problem(str(path), number, f"not a curated record: {exc}", line[:_EXCERPT_CHARS]))
                continue
            record_id = f"curated:{path.stem}:{record.pop('id') or number}"
            if record_id in seen:
                problems.append(Problem(str(path), number, f"the id of {record_id} is used twice in the file",
                                        line[:_EXCERPT_CHARS]))
                continue
            seen.add(record_id)
            out.append({**record, "record_id": record_id, "source_file": str(path)})


def _record(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        msg = f"a line must be a JSON object, got {type(data).__name__}"
        raise TypeError(msg)
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        msg = f"unknown key(s) {unknown}; the keys are {sorted(_KEYS)}"
        raise ValueError(msg)
    request = data.get("request")
    if not isinstance(request, str) or is_blank(request):
        msg = "'request' must be non-empty text"
        raise ValueError(msg)
    expected = data.get("expected_response", data.get("reference"))
    if expected is not None and not isinstance(expected, str):
        msg = "'expected_response' must be text"
        raise TypeError(msg)
    tags = data.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        msg = "'tags' must be a list of strings"
        raise TypeError(msg)
    must_pass = data.get("must_pass", False)
    if not isinstance(must_pass, bool):
        msg = "'must_pass' must be true or false"
        raise TypeError(msg)
    record_id = data.get("id")
    if record_id is not None and not isinstance(record_id, str | int):
        msg = "'id' must be text or a number"
        raise TypeError(msg)
    return {"id": None if record_id is None else str(record_id), "request": request,
            "expected_response": None if is_blank(expected) else expected, "tags": tags, "must_pass": must_pass}
