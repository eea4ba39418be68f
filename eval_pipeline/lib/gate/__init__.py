"""The release gate: the dev-time mode of the same substrate. A candidate version of the agent answers the
dev-eval dataset's requests (and the curated suites'), the same judges score its answers, and the release
is gated on the paired, production-weighted difference from production's verdicts on the same records.

- ``candidates.py``  the three ways to plug a candidate in (litellm model, Python callable, HTTP endpoint)
- ``responses.py``   every request put to the candidate: limits, retries, budget, failures recorded, masking
- ``inputs.py``      the gate's records: the dev-eval dataset's production records, with their weights
- ``curated.py``     curated suites (``dev_eval.curated``): read, checked line by line, masked
- ``compare.py``     paired differences per judge and stratum, curated must-pass, pairwise win/tie/loss, the rule
- ``run.py``         run_gate: inputs -> candidate -> judges (through the cache) -> comparison -> verdict
- ``store.py``       the rows of a run: candidate_responses, release_gates, release_gate_strata/verdicts
- ``page.py``        the HTML page of a run (``<reports>/gates/``); ``summary.py`` its text summary
"""

from pathlib import Path

from eval_pipeline.lib.config import Config
from eval_pipeline.lib.gate.candidates import CandidateSpec, spec_from_config
from eval_pipeline.lib.gate.compare import points
from eval_pipeline.lib.gate.errors import GateSetupError
from eval_pipeline.lib.gate.page import write_page
from eval_pipeline.lib.gate.run import GateOptions, GateRun, run_gate
from eval_pipeline.lib.gate.store import write_gate
from eval_pipeline.lib.gate.summary import interval, summary_lines
from eval_pipeline.lib.judging import Endpoint
from eval_pipeline.lib.judging.day import Connect


def gate(config: Config, endpoint: Endpoint, spec: CandidateSpec, *, connect: Connect, key: bytes,
         reports_dir: Path, options: GateOptions = GateOptions()) -> GateRun:  # noqa: B008 - frozen
    """Run a gate, write its page under ``reports_dir/gates/`` and store its rows; raises GateSetupError
    for what must be fixed before a gate can run (nothing is stored then)."""
    run = run_gate(config, endpoint, spec, connect=connect, key=key, options=options)
    run.report = str(write_page(reports_dir, run))
    with connect() as con:
        write_gate(con, run)
    return run


__all__ = ["CandidateSpec", "GateOptions", "GateRun", "GateSetupError", "gate", "interval", "points", "run_gate",
           "spec_from_config", "summary_lines", "write_gate", "write_page"]
