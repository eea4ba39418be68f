"""Shared fixtures: every test gets its own warehouse, landing zone and reports folder, and no network."""

from pathlib import Path

import pytest

# The package sets LITELLM_LOCAL_MODEL_COST_MAP before anything can import litellm (whose import would
# otherwise reach for the network); importing it first makes that hold for every test module.
import eval_pipeline  # noqa: F401


@pytest.fixture
def pipeline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """EVAL_* settings pointing into tmp_path, with no judge model and the default config."""
    paths = {
        "warehouse": tmp_path / "warehouse.duckdb",
        "landing": tmp_path / "landing",
        "reports": tmp_path / "reports",
    }
    paths["landing"].mkdir()
    monkeypatch.setenv("EVAL_WAREHOUSE", str(paths["warehouse"]))
    monkeypatch.setenv("EVAL_LANDING_DIR", str(paths["landing"]))
    monkeypatch.setenv("EVAL_REPORTS_DIR", str(paths["reports"]))
    monkeypatch.setenv("EVAL_MASKING_KEY", "test-masking-key")
    for var in ("EVAL_CONFIG", "EVAL_JUDGE_MODEL", "EVAL_JUDGE_API_BASE"):
        monkeypatch.delenv(var, raising=False)
    return paths
