"""Contract: the YAML config is parsed once per version of the file (every step of a run shares the parse),
an edited file is read again, and a typo is an error naming the key."""

import os
from pathlib import Path

import pytest

from eval_pipeline.lib.config import Config, load_config


def test_config_parsed_once_per_file_version(tmp_path: Path) -> None:
    path = tmp_path / "eval.yaml"
    path.write_text("sampling:\n  target_size: 50\n")
    first = load_config(path)
    assert first.sampling.target_size == 50
    assert load_config(str(path)) is first
    path.write_text("sampling:\n  target_size: 75\n")
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 1_000_000))  # an edit within the same clock tick
    assert load_config(path).sampling.target_size == 75


def test_config_defaults_without_a_file() -> None:
    assert load_config(None) == Config()


def test_config_typo_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "eval.yaml"
    path.write_text("sampling:\n  target_sise: 50\n")
    with pytest.raises(ValueError, match="target_sise"):
        load_config(path)


def test_config_ingest_and_retention_settings(tmp_path: Path) -> None:
    path = tmp_path / "eval.yaml"
    path.write_text("ingest:\n  max_file_mb: 64\nretention:\n  span_days: 30\n")
    config = load_config(path)
    assert (config.ingest.max_file_mb, config.retention.span_days) == (64, 30)
    assert (Config().ingest.max_file_mb, Config().retention.span_days) == (256, 0)  # retention is off by default
    path.write_text("retention:\n  days: 30\n")  # defect: the key is span_days
    with pytest.raises(ValueError, match=r"Unknown setting\(s\) \['days'\] in eval.yaml.retention"):
        load_config(path)
    path.write_text("ingest:\n  max_file_mb: 0\n")  # defect: no file could be read
    with pytest.raises(ValueError, match="ingest.max_file_mb must be at least 1"):
        load_config(path)
