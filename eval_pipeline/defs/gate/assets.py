import dagster as dg

from eval_pipeline.lib import gate
from eval_pipeline.lib.metadata import md_table
from eval_pipeline.resources import Judge, Settings, Warehouse

# One partition per (dev-eval dataset version, candidate name), keyed "<version>:<candidate>": add one in
# the UI (or with `dagster instance`) and materialize it; the candidate is the one of that name under
# gate.candidates in the config, or the one given in the run config.
release_gate_partitions = dg.DynamicPartitionsDefinition(name="release_gates")


class ReleaseGateConfig(dg.Config):
    """A candidate given for this run (wins over gate.candidates), and overrides of the gate's settings."""

    candidate_model: str = ""
    candidate_api_base: str = ""
    candidate_system_prompt: str = ""
    candidate_fn: str = ""
    candidate_url: str = ""
    margin: float | None = None
    judges: list[str] = []


def _candidate(config: ReleaseGateConfig, settings: Settings, name: str) -> gate.CandidateSpec:
    if not name or gate.CandidateSpec(name=name).label() != name:
        msg = (f"The partition key's candidate name {name!r} must be letters, digits, '_', '.' or '-' after "
               "'<dataset version>:'; add a partition such as 3ad8ed00c3cc89ee:my-candidate.")
        raise dg.Failure(description=msg)
    given = gate.CandidateSpec(name=name, model=config.candidate_model, api_base=config.candidate_api_base,
                               system_prompt_file=config.candidate_system_prompt, fn=config.candidate_fn,
                               url=config.candidate_url)
    if given.target:
        return given
    for declared in settings.config().gate.candidates:
        spec = gate.spec_from_config(declared)
        if spec.label() == name:
            return spec
    msg = (f"No candidate named {name!r}: declare it under gate.candidates in the config, or give "
           "candidate_model, candidate_fn or candidate_url in the run config.")
    raise dg.Failure(description=msg)


@dg.asset(
    partitions_def=release_gate_partitions,
    deps=[dg.AssetDep("dev_eval_dataset", partition_mapping=dg.AllPartitionMapping())],
    kinds={"duckdb"},
    group_name="dev_eval",
    pool="warehouse",
)
def release_gate(context: dg.AssetExecutionContext, config: ReleaseGateConfig, warehouse: Warehouse,
                 settings: Settings, judge: Judge) -> dg.MaterializeResult:
    """A release candidate gated against a dev-eval dataset version: per judge the paired, production-weighted
    difference in pass rate with its 95 % interval, and the verdict (rows in release_gates)."""
    version, _, name = context.partition_key.partition(":")
    options = gate.GateOptions(dataset_version=version, margin=config.margin, judges=tuple(config.judges))
    try:
        run = gate.gate(settings.config(), judge.endpoint(), _candidate(config, settings, name),
                        connect=warehouse.get_connection, key=warehouse.key(), reports_dir=settings.reports_dir(),
                        options=options)
    except gate.GateSetupError as exc:
        raise dg.Failure(description=str(exc)) from None
    for line in gate.summary_lines(run):
        context.log.info(line)
    if run.verdict == "error":
        raise dg.Failure(description=" ".join(run.reasons), metadata={"gate_id": run.gate_id})
    return dg.MaterializeResult(metadata={
        "gate_id": run.gate_id,
        "verdict": run.verdict,
        "margin": run.margin,
        "records": len(run.inputs.production),
        "curated_records": len(run.inputs.curated),
        "candidate_failures": len(run.calls.failed) if run.calls else 0,
        "judges": dg.MetadataValue.md(md_table(
            ["judge", "difference", "95 % interval", "n", "verdict"],
            [(c.judge, gate.points(c.difference.value) if c.difference else "n/a", gate.interval(c.difference, True),
              c.difference.n if c.difference else 0, c.verdict) for c in run.comparisons])),
        "reasons": dg.MetadataValue.json(run.reasons),
        "report": dg.MetadataValue.path(run.report or ""),
    })
