"""Contract: the row policy drops opted-out, listed-service and listed-tenant traces (first reason counts) and
counts them by reason; attribute names with dots become quoted DuckDB JSON paths."""

from collections import Counter

import polars as pl

from eval_pipeline.lib import masking


def test_apply_row_policy_drops_opted_out_services_and_tenants() -> None:
    df = pl.DataFrame({
        "trace_id": ["a", "b", "c", "d", "e"],
        "service_name": ["web", "web", "internal-admin", "web", "web"],
        "opted_out": [False, True, False, False, None],  # b: the user opted out
        "tenant": [None, None, None, "acme-health", "acme"],  # d: a listed tenant
    })
    kept, dropped = masking.apply_row_policy(df, drop_services=["internal-admin"], drop_tenants=["acme-health"])
    assert kept["trace_id"].to_list() == ["a", "e"]
    assert "opted_out" not in kept.columns and "tenant" not in kept.columns
    assert dropped == Counter({"opt_out": 1, "service": 1, "tenant": 1})


def test_json_paths_quote_dotted_attribute_names() -> None:
    assert masking.json_paths(["eval.opt_out"]) == ['$."eval.opt_out"']
    assert len(masking.json_paths([])) == 1  # a path that cannot match keeps the list typed
