"""Judge/human agreement: human labels from a file, a table or the traces, and per judge the accuracy,
Cohen's kappa and confusion matrix of the judge's verdicts against them.

Only records with both a human label and a judge verdict of ``pass`` or ``fail`` are compared; a judge's
``unknown`` is counted apart (``judge_unknown``), never as agreement or disagreement. Cohen's kappa is
``(p_o - p_e) / (1 - p_e)``; it is undefined (None) when chance agreement is certain (``p_e = 1``, e.g.
every label and verdict the same), because no judge can be told apart from chance there.
"""

import csv
import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval_pipeline.lib.metadata import md_table

LABELS = ("pass", "fail")

_SYNONYMS = {
    "pass": "pass", "passed": "pass", "true": "pass", "yes": "pass", "1": "pass", "good": "pass",
    "correct": "pass", "thumbs_up": "pass", "thumbsup": "pass", "positive": "pass", "up": "pass",
    "fail": "fail", "failed": "fail", "false": "fail", "no": "fail", "0": "fail", "bad": "fail",
    "incorrect": "fail", "thumbs_down": "fail", "thumbsdown": "fail", "negative": "fail", "down": "fail",
}


def normalize_label(value: Any) -> str | None:
    """'pass', 'fail', or None for a value that is neither (or one of their usual synonyms)."""
    if isinstance(value, bool):
        return "pass" if value else "fail"
    if isinstance(value, int | float) and value in (0, 1):
        return "pass" if value == 1 else "fail"
    if not isinstance(value, str):
        return None
    return _SYNONYMS.get(value.strip().lower().replace("-", "_").replace(" ", "_"))


@dataclass(frozen=True)
class Label:
    trace_id: str
    judge: str
    label: str  # 'pass' | 'fail'
    source: str  # 'table' | 'file' | 'trace'


# When several sources label the same (trace, judge), the most deliberate one wins.
_PRIORITY = {"table": 0, "file": 1, "trace": 2}


def merge_labels(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Label]:
    """One label per (trace_id, judge) from rows with trace_id, judge, label and source; rows whose label
    is not pass/fail (or a synonym) are dropped. Among sources, table > file > trace; within one source
    the last row wins."""
    out: dict[tuple[str, str], Label] = {}
    for row in rows:
        label = normalize_label(row.get("label"))
        trace_id, judge, source = row.get("trace_id"), row.get("judge"), row.get("source") or "table"
        if label is None or not trace_id or not judge:
            continue
        key = (str(trace_id), str(judge))
        current = out.get(key)
        if current is None or _PRIORITY.get(source, 9) <= _PRIORITY.get(current.source, 9):
            out[key] = Label(key[0], key[1], label, source)
    return out


def read_labels_file(path: str | Path) -> list[dict[str, Any]]:
    """Rows (trace_id, judge, label, source='file') from a CSV file with a header or a JSON-lines file."""
    p = Path(path)
    if not p.is_file():
        msg = f"The labels file {p} (judging.labels_file) does not exist; fix the path or remove the setting."
        raise FileNotFoundError(msg)
    rows: list[dict[str, Any]] = []
    if p.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                msg = (f"Line {n} of the labels file {p} is not JSON; write one object per line with "
                       "trace_id, judge, label.")
                raise ValueError(msg) from None
            if not isinstance(row, dict):
                msg = f"Line {n} of the labels file {p} is not a JSON object with trace_id, judge, label."
                raise ValueError(msg)
            rows.append(row)
    else:
        with p.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = {"trace_id", "judge", "label"} - set(reader.fieldnames or ())
            if missing:
                msg = (f"The labels file {p} has no column(s) {sorted(missing)}; its header must name "
                       "trace_id, judge, label.")
                raise ValueError(msg)
            rows = list(reader)
    return [{"trace_id": r.get("trace_id"), "judge": r.get("judge"), "label": r.get("label"), "source": "file"}
            for r in rows]


@dataclass(frozen=True)
class Agreement:
    """One judge's agreement with the human labels."""

    judge: str
    labelled: int  # records of the judge with a human label
    compared: int  # of those, records where the judge said pass or fail
    judge_unknown: int  # of those, records where the judge said unknown
    accuracy: float | None
    cohen_kappa: float | None
    confusion: dict[str, dict[str, int]]  # confusion[human][judge]


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of (human, judge) pairs; None when there are none or chance agreement is certain."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(h == j for h, j in pairs) / n
    humans, judges = Counter(h for h, _ in pairs), Counter(j for _, j in pairs)
    expected = sum(humans[c] * judges[c] for c in set(humans) | set(judges)) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def agreement(scores: Iterable[Mapping[str, Any]], labels: Mapping[tuple[str, str], Label]) -> list[Agreement]:
    """Per judge (sorted by name) among ``scores`` (trace_id, judge, verdict): the agreement with
    ``labels``. Judges with no labelled record are left out."""
    by_judge: dict[str, list[tuple[str, str]]] = {}
    unknown: Counter[str] = Counter()
    for score in scores:
        label = labels.get((str(score["trace_id"]), str(score["judge"])))
        if label is None:
            continue
        judge = str(score["judge"])
        by_judge.setdefault(judge, [])
        if score["verdict"] in LABELS:
            by_judge[judge].append((label.label, score["verdict"]))
        else:
            unknown[judge] += 1
    out = []
    for judge in sorted(by_judge):
        pairs = by_judge[judge]
        confusion = {h: {j: sum(1 for p in pairs if p == (h, j)) for j in LABELS} for h in LABELS}
        out.append(Agreement(
            judge=judge,
            labelled=len(pairs) + unknown[judge],
            compared=len(pairs),
            judge_unknown=unknown[judge],
            accuracy=sum(h == j for h, j in pairs) / len(pairs) if pairs else None,
            cohen_kappa=cohen_kappa(pairs),
            confusion=confusion,
        ))
    return out


@dataclass(frozen=True)
class DayAgreement:
    """The agreement of one day's verdicts with the human labels of its records."""

    labels: int  # (trace, judge) pairs with a human label, all sources merged
    results: list[Agreement]

    def rows(self) -> list[dict[str, Any]]:
        """The judge_agreement rows (without the day and the time)."""
        return [{**dataclasses.asdict(a), "confusion": json.dumps(a.confusion)} for a in self.results]

    def kappas(self) -> dict[str, float]:
        return {a.judge: float(a.cohen_kappa) for a in self.results if a.cohen_kappa is not None}

    def summary_table(self) -> str:
        """A markdown table per judge: counts, accuracy, kappa and the confusion matrix."""

        def fmt(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.2f}"

        headers = ["judge", "compared", "judge unknown", "accuracy", "kappa", "human pass: judge pass/fail",
                   "human fail: judge pass/fail"]
        return md_table(headers, [
            (a.judge, a.compared, a.judge_unknown, fmt(a.accuracy), fmt(a.cohen_kappa),
             f"{a.confusion['pass']['pass']}/{a.confusion['pass']['fail']}",
             f"{a.confusion['fail']['pass']}/{a.confusion['fail']['fail']}") for a in self.results])


def day_agreement(scores: Iterable[Mapping[str, Any]], label_rows: Iterable[Mapping[str, Any]],
                  labels_file: str = "") -> DayAgreement:
    """Agreement of a day's ``scores`` (trace_id, judge, verdict) with the labels of the human_labels table
    and the traces (``label_rows``) and of ``labels_file`` (judging.labels_file, when set)."""
    file_rows = read_labels_file(labels_file) if labels_file else []
    labels = merge_labels([*label_rows, *file_rows])
    return DayAgreement(len(labels), agreement(scores, labels))
