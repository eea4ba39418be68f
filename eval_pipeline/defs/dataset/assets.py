import dagster as dg

from eval_pipeline.defs import rebuild
from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib import dev_eval, fingerprints, masking, sampling
from eval_pipeline.lib.warehouse import transaction
from eval_pipeline.resources import Settings, Warehouse


@dg.asset(
    deps=["masked_traces"],
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    group_name="dataset",
    pool="warehouse",
)
def eval_dataset(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: Settings) -> dg.MaterializeResult:
    """The day's evaluation records: a stratified, error-biased, deduplicated sample with inclusion weights,
    with names, places and organisations masked (the name tier) before any judge reads them."""
    day = context.partition_time_window.start.date()
    config = settings.config()
    privacy = config.privacy
    # Whether the name tier can run is an input (a day built without it is rebuilt once it can), found without
    # loading the model, so an unchanged day is kept at once.
    status = masking.name_tier_status(privacy.name_detector, privacy.spacy_model)
    with warehouse.get_connection() as con:
        fp = fingerprints.derived_fingerprint(con, "eval_dataset", "masked_traces", day, config.sampling, privacy,
                                              status)
        if (kept := rebuild.kept(context, con, "eval_dataset", day, fp)) is not None:
            return kept
    # Loaded once per process with the warehouse closed: a language model must not hold the write lock.
    tier = masking.load_name_tier(privacy.name_detector, privacy.spacy_model, privacy.name_entities)
    if not tier.checked and tier.status != "off":
        context.log.warning("%s: names in eval records are NOT masked (%s); names_masked fails.", day, tier.status)
    with warehouse.get_connection() as con:
        with transaction(con):
            sel = sampling.select_day(con, day, config.sampling)
            named = masking.mask_dataset_names(con, day, tier, warehouse.key())
        strata = sampling.strata(con, day)
        context.log.info("%s: %d records from %d eligible traces in %d strata", day, sel.records,
                         sel.eligible_traces, sel.strata)
        return rebuild.built(context, con, "eval_dataset", day, fp, {
            "dagster/row_count": sel.records,
            "records": sel.records,
            "expected_records": round(sel.expected_records, 1),
            "strata": sel.strata,
            "eligible_traces": sel.eligible_traces,
            "unique_requests": sel.unique_requests,
            "traces_without_request": sel.traces_without_request,
            "filtered_out": sel.filtered_out,
            "weight_sum": round(sel.weight_sum, 1),
            "expected_error_share": round(sel.expected_error_share or 0.0, 4),
            "latency_thresholds_ms": dg.MetadataValue.json([round(t, 1) for t in sel.latency_thresholds]),
            "dataset_version": sel.dataset_version or "",
            "strata_table": dg.MetadataValue.md(sampling.strata_table(strata)),
            "name_tier": named.status,
            "names_masked": dg.MetadataValue.json(dict(sorted(named.found.items()))),
            "name_tier_records_per_s": round(named.records_per_second, 1),
        })


# A plain same-day dependency: the window is dev_eval.window_days from the run's config, and a partition
# mapping is fixed when the definitions load, so it could only show a default the YAML may have changed.
# The asset reads the configured window at run time; days of it without an eval_dataset are logged, listed
# in the metadata (days_without_dataset) and fail the dev_eval_window_complete check.
@dg.asset(
    deps=["eval_dataset"],
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    group_name="dev_eval",
    pool="warehouse",
)
def dev_eval_dataset(context: dg.AssetExecutionContext, warehouse: Warehouse,
                     settings: Settings) -> dg.MaterializeResult:
    """The dev-time eval dataset: the daily datasets of the window ending on the partition's day, deduplicated."""
    # Not in daily_eval: it changes only when someone materializes it, so a release decision can cite a
    # dataset_version (a content hash) that no nightly run will move.
    config = settings.config()
    end = context.partition_time_window.start.date()
    with warehouse.get_connection() as con:
        with transaction(con):
            w = dev_eval.build(con, end, config.dev_eval.window_days, config.sampling.seed)
    if w.days_without_dataset:
        context.log.warning("dev_eval_dataset %s..%s: no eval_dataset for %d day(s) of the window (%s); "
                            "materialize eval_dataset for them and rebuild.", w.start, w.end,
                            len(w.days_without_dataset), ", ".join(w.days_without_dataset[:5]))
    context.log.info("dev_eval_dataset %s..%s: %d records, version %s", w.start, w.end, w.records, w.dataset_version)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": w.records,
        "records": w.records,
        "error_records": w.error_records,
        "weight_sum": round(w.weight_sum, 1),
        "window": f"{w.start}..{w.end}",
        "days_with_records": w.days_with_records,
        "days_without_dataset": dg.MetadataValue.json(w.days_without_dataset),
        "dataset_version": w.dataset_version or "",
    })
