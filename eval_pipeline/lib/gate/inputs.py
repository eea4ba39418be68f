"""What a release gate compares on: the production records of a dev-eval dataset (masked, with their
design weights) and the curated records, as :class:`GateRecord` s."""

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import duckdb

from eval_pipeline.lib import export
from eval_pipeline.lib.config import Config
from eval_pipeline.lib.gate.curated import Problem, read_curated
from eval_pipeline.lib.gate.errors import GateSetupError
from eval_pipeline.lib.warehouse import load_sql

PRODUCTION, CURATED = "production", "curated"
# The fields of a record as the judges see it (sql/judging/judge_records.sql).
JUDGED_FIELDS = ("trace_id", "request", "response", "status", "tool_path", "retrieved_context", "latency_ms",
                 "tool_calls", "expected_response")


@dataclass(frozen=True)
class GateRecord:
    """One request put to the candidate. A production record carries its trace's record as the judges see
    it (``production``) and its design weight (traces it stands for) and inclusion probability; a curated
    one carries weight 1, no production side, its tags and whether it must pass."""

    record_id: str
    section: str
    request: str
    weight: float = 1.0
    pi: float | None = None
    stratum: str | None = None
    production: dict[str, Any] | None = None
    expected_response: str | None = None
    retrieved_context: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    must_pass: bool = False

    def context(self) -> dict[str, Any]:
        """What the candidate is told besides the request (candidates.CONTEXT_FIELDS): never the
        production response."""
        prod = self.production or {}
        return {"record_id": self.record_id, "section": self.section, "stratum": self.stratum,
                "status": prod.get("status"), "tool_path": list(prod.get("tool_path") or []),
                "retrieved_context": list(self.retrieved_context), "tags": list(self.tags)}


@dataclass(frozen=True)
class GateInputs:
    """The records of one gate and where they come from."""

    window_start: dt.date
    window_end: dt.date
    dataset_version: str
    production: list[GateRecord]
    curated: list[GateRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def records(self) -> list[GateRecord]:
        return [*self.production, *self.curated]

    def inclusion_probabilities(self) -> list[float] | None:
        """The records' inclusion probabilities when every weight is 1 / pi (one record per trace), for the
        finite-population factor; None otherwise (a collapsed record's weight carries several traces),
        which leaves the intervals conservative."""
        pis = [r.pi for r in self.production]
        if all(p is not None and 0 < p <= 1 and math.isclose(r.weight * p, 1.0, rel_tol=1e-6)
               for r, p in zip(self.production, pis, strict=True)):
            return pis  # type: ignore[return-value]
        return None


def window_of_version(con: duckdb.DuckDBPyConnection, version: str) -> dt.date:
    """The newest window end whose dev-eval dataset has ``version``."""
    (end,) = con.execute(load_sql("gate/gate_window_of_version"), {"version": version}).fetchall()[0]
    if end is None:
        msg = (f"No dev-eval dataset has version {version!r}; materialize dev_eval_dataset for the window you "
               "mean and gate the version its metadata shows.")
        raise GateSetupError(msg)
    return end


def load_inputs(con: duckdb.DuckDBPyConnection, config: Config, key: bytes, end: dt.date | None = None) -> GateInputs:
    """The dev-eval dataset of the window ending ``end`` (default: the newest built) and the curated suites."""
    try:
        end = end or export.latest_window_end(con)
    except LookupError as exc:
        raise GateSetupError(str(exc)) from None
    rows = con.sql(load_sql("gate/gate_records"), params={"end": end}).to_arrow_table().to_pylist()
    if not rows:
        msg = (f"The dev-eval dataset has no records for the window ending {end}; materialize dev_eval_dataset "
               "for that day, or leave out --end to gate on the newest one.")
        raise GateSetupError(msg)
    if any(r["tool_path"] and r["tool_calls"] is None for r in rows):
        # Built before records carried their (name-masked) tool calls: the judges would see none.
        msg = (f"The dev-eval dataset of the window ending {end} was built before its records carried their tool "
               f"calls; materialize eval_dataset for the window's days and dev_eval_dataset for {end} again.")
        raise GateSetupError(msg)
    production = [GateRecord(
        record_id=r["trace_id"], section=PRODUCTION, request=r["request"], weight=float(r["weight"]),
        pi=r["inclusion_probability"], stratum=r["stratum"], production={k: r[k] for k in JUDGED_FIELDS},
        expected_response=r["expected_response"], retrieved_context=tuple(r["retrieved_context"] or ()),
    ) for r in rows]
    curated, problems = read_curated(config.dev_eval.curated, key, config.privacy)
    return GateInputs(
        window_start=rows[0]["window_start"], window_end=end, dataset_version=rows[0]["dataset_version"] or "",
        production=production, problems=problems,
        curated=[GateRecord(record_id=c.record_id, section=CURATED, request=c.request,
                            expected_response=c.expected_response, tags=c.tags, must_pass=c.must_pass)
                 for c in curated],
    )
