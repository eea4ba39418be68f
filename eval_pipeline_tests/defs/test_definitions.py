"""Contract: the code location loads, holds the whole chain with its checks, the daily_eval job and a
schedule whose tick targets yesterday's partition; every asset is daily partitioned but the release gate,
keyed by (dataset version, candidate)."""

import datetime as dt

import dagster as dg

from eval_pipeline.definitions import defs

CHAIN = {"raw_traces", "spans", "masked_traces", "eval_dataset", "judge_scores", "daily_metrics",
         "daily_judge_results", "daily_judge_strata", "daily_report"}


def test_definitions_load_the_whole_chain() -> None:
    d = defs()
    graph = d.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} >= CHAIN | {"dev_eval_dataset"}
    checks = {k.name for k in graph.asset_check_keys}
    assert {"trace_id_present", "trace_id_unique", "trace_date_is_partition", "latency_non_negative",
            "status_in_set", "quarantine_share_below_threshold", "judge_pass_rate_no_regression",
            "traffic_no_drift", "judges_answer_and_cost_stable"} <= checks
    job = d.resolve_job_def("daily_eval")
    in_job = {n.to_user_string() for n in job.asset_layer.executable_asset_keys}
    assert in_job >= CHAIN
    assert "dev_eval_dataset" not in in_job  # refreshed only when asked
    assert "release_gate" not in in_job


def test_definitions_every_asset_is_daily_partitioned_and_documented() -> None:
    graph = defs().resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        # The release gate is the one exception: one partition per (dev-eval dataset version, candidate).
        expected = dg.DynamicPartitionsDefinition if key.to_user_string() == "release_gate" else \
            dg.DailyPartitionsDefinition
        assert isinstance(node.partitions_def, expected), key
        assert node.description, key


def test_schedule_tick_targets_yesterday() -> None:
    d = defs()
    schedule = d.resolve_schedule_def("daily_eval_schedule")
    tick = dt.datetime(2026, 11, 21, 0, 30, tzinfo=dt.UTC)
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick,
                                            repository_def=d.get_repository_def())
        result = schedule.evaluate_tick(context)
    assert [r.partition_key for r in result.run_requests] == ["2026-11-20"]
    assert schedule.job_name == "daily_eval"
