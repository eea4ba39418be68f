"""Contract of the GX adapter: one result per rule in rule order, failing rules and counts that match
the defects in the frame, JSON-safe details, and a raised ValueError (never a quiet failure) when GX
could not evaluate a rule."""

import json
import subprocess
import sys

import polars as pl
import pytest

from eval_pipeline.lib.expectations import Rule, RuleResult, validate

RULES = [
    Rule("trace_id_not_null", "ExpectColumnValuesToNotBeNull", {"column": "trace_id"}, "every row has an id"),
    Rule("trace_id_unique", "ExpectColumnValuesToBeUnique", {"column": "trace_id"}, "one row per trace"),
    Rule(
        "status_known",
        "ExpectColumnValuesToBeInSet",
        {"column": "status", "value_set": ["ok", "error"]},
        "status is ok or error",
    ),
    Rule("latency_non_negative", "ExpectColumnValuesToBeBetween", {"column": "latency_ms", "min_value": 0}, ""),
    Rule(
        "weight_positive",
        "ExpectColumnValuesToBeBetween",
        {"column": "weight", "min_value": 0, "strict_min": True},
        "weights are positive",
    ),
    Rule("tool_path_present", "ExpectColumnValuesToNotBeNull", {"column": "tool_path"}, ""),
    Rule("not_empty", "ExpectTableRowCountToBeBetween", {"min_value": 1}, "the day has records"),
]

SCHEMA = {
    "trace_id": pl.String,
    "status": pl.String,
    "latency_ms": pl.Int64,
    "weight": pl.Float64,
    "tool_path": pl.List(pl.String),
}


def _clean_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "trace_id": ["a1", "b2", "c3", "d4"],
            "status": ["ok", "ok", "error", "ok"],
            "latency_ms": [120, 80, 3000, 0],
            "weight": [1.0, 2.5, 1.0, 4.0],
            "tool_path": [["search"], [], ["search", "calc"], ["calc"]],
        },
        schema=SCHEMA,
    )


def _defective_frame() -> pl.DataFrame:
    rows = [
        ("a1", "ok", 120, 1.0, ["search"]),
        (None, "ok", 80, 1.0, ["search"]),  # defect: trace_id is null
        ("c3", "timeout", 90, 1.0, []),  # defect: status outside ok/error
        ("c3", "ok", -5, 1.0, ["calc"]),  # defects: trace_id duplicates the row above; negative latency
        ("e5", "error", 300, 2.0, ["calc"]),
    ]
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def test_validate_passes_clean_frame():
    results = validate(_clean_frame(), RULES)

    assert [r.name for r in results] == [r.name for r in RULES]
    assert all(isinstance(r, RuleResult) and r.success for r in results), results
    by_name = {r.name: r for r in results}
    assert by_name["trace_id_unique"].unexpected_count == 0
    assert by_name["trace_id_unique"].unexpected_sample == []
    # A table-level expectation has no per-row count.
    assert by_name["not_empty"].unexpected_count is None
    assert by_name["not_empty"].details["observed_value"] == 4


def test_validate_reports_planted_defects():
    results = {r.name: r for r in validate(_defective_frame(), RULES)}

    failing = {name for name, r in results.items() if not r.success}
    assert failing == {"trace_id_not_null", "trace_id_unique", "status_known", "latency_non_negative"}
    assert results["trace_id_not_null"].unexpected_count == 1
    assert results["trace_id_unique"].unexpected_count == 2
    assert results["trace_id_unique"].unexpected_sample == ["c3", "c3"]
    assert results["status_known"].unexpected_count == 1
    assert results["status_known"].unexpected_sample == ["timeout"]
    assert results["latency_non_negative"].unexpected_count == 1
    assert results["latency_non_negative"].unexpected_sample == [-5]
    assert results["weight_positive"].unexpected_count == 0


def test_validate_returns_json_safe_details():
    results = validate(_defective_frame(), RULES)

    # Dagster metadata and the warehouse need plain values: no numpy scalars, no NaN.
    encoded = json.dumps([[r.unexpected_sample, r.details] for r in results], allow_nan=False)
    assert "c3" in encoded
    null_rule = next(r for r in results if r.name == "trace_id_not_null")
    assert null_rule.unexpected_sample == [None]


def test_validate_raises_on_missing_column():
    rules = [*RULES[:2], Rule("has_user", "ExpectColumnValuesToNotBeNull", {"column": "user_id"}, "")]

    with pytest.raises(ValueError, match=r"Rule 'has_user' \(ExpectColumnValuesToNotBeNull\).*user_id"):
        validate(_clean_frame(), rules)


def test_validate_raises_on_engine_error():
    # Defect in the rule: a numeric bound on a text column, which pandas cannot compare.
    rule = Rule("status_numeric", "ExpectColumnValuesToBeBetween", {"column": "status", "min_value": 0}, "")

    with pytest.raises(ValueError, match=r"Rule 'status_numeric' .* could not be evaluated"):
        validate(_clean_frame(), [rule])


def test_validate_handles_empty_frame():
    empty = pl.DataFrame(schema=SCHEMA)

    results = {r.name: r for r in validate(empty, RULES)}

    assert {name for name, r in results.items() if not r.success} == {"not_empty"}
    assert results["trace_id_unique"].unexpected_count == 0
    assert results["not_empty"].details["observed_value"] == 0


def test_validate_rejects_unknown_expectation():
    with pytest.raises(ValueError, match=r"Rule 'typo' names 'ExpectColumnValuesToBeNotNull'"):
        validate(_clean_frame(), [Rule("typo", "ExpectColumnValuesToBeNotNull", {"column": "trace_id"}, "")])


def test_validate_rejects_invalid_arguments():
    with pytest.raises(ValueError, match=r"Rule 'no_column' has invalid arguments"):
        validate(_clean_frame(), [Rule("no_column", "ExpectColumnValuesToNotBeNull", {}, "")])


def test_validate_rejects_duplicate_rules():
    twin = Rule("trace_id_present", "ExpectColumnValuesToNotBeNull", {"column": "trace_id"}, "")
    with pytest.raises(ValueError, match=r"Rule 'trace_id_present' repeats 'trace_id_not_null'"):
        validate(_clean_frame(), [RULES[0], twin])
    with pytest.raises(ValueError, match=r"Two rules are named 'not_empty'"):
        validate(_clean_frame(), [RULES[-1], RULES[-1]])


def test_validate_with_no_rules_returns_nothing():
    assert validate(_clean_frame(), []) == []


def test_expectations_import_does_not_load_gx():
    code = "import sys, eval_pipeline.lib.expectations; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_validate_keeps_gx_quiet(capfd):
    validate(_defective_frame(), RULES)

    captured = capfd.readouterr()
    assert "Calculating Metrics" not in captured.err
    assert captured.out == ""
