"""The planted day the privacy tests run on."""

from pathlib import Path

import pytest

from eval_pipeline_tests.support.privacy_planted import write_planted_day


@pytest.fixture
def planted(pipeline_env: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    config = tmp_path / "eval.yaml"
    write_planted_day(pipeline_env["landing"], config)
    monkeypatch.setenv("EVAL_CONFIG", str(config))
    return pipeline_env
