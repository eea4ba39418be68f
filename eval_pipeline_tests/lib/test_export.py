"""Contract: `eval-pipeline export` writes the newest (or the named) dev-eval dataset as records.jsonl,
records.parquet and manifest.json under <out>/dev_eval_<window_end>_<version>/; every record carries
`inputs` / `outputs` / `expectations` / the source trace id and its weight, in the shape MLflow's
`mlflow.genai.evaluate(data=...)` takes and that pandas, polars and Hugging Face's json/parquet loaders read
as they are; JSONL and Parquet hold the same records; only masked text leaves; a missing dataset is a
sentence saying what to do, not a traceback."""

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from eval_pipeline import cli
from eval_pipeline.lib import export, sampling, warehouse
from eval_pipeline.lib.config import Sampling
from eval_pipeline.lib.warehouse import load_sql

DAYS = [dt.date(2026, 11, 19), dt.date(2026, 11, 20)]


def _build(db: Path, end: dt.date = DAYS[-1]) -> None:
    rows = [{"trace_id": f"{d:%d}{i:030x}", "trace_date": d, "request": f"Refund order {i} for <EMAIL:0a0b0c0d0e>",
             "response": f"Refunded order {i}.", "tool_path": ["lookup", "refund"], "status": "ok",
             "latency_ms": 100.0 + i, "models": ["model-a"], "retrieved_context": [f"policy {i}"]}
            for d in DAYS for i in range(30)]
    with warehouse.connect(db) as con:
        con.register("rows", pa.Table.from_pylist(rows))
        con.execute("INSERT INTO masked_traces BY NAME SELECT * FROM rows")
        for d in DAYS:
            sampling.select_day(con, d, Sampling(target_size=1000))  # everything
        con.execute(load_sql("dataset/dev_eval_dataset_insert"), {"start": DAYS[0], "end": end, "seed": "s"})
        con.execute(load_sql("dataset/dev_eval_dataset_version"), {"end": end})


def test_export_writes_jsonl_parquet_and_manifest_in_the_eval_layout(pipeline_env: dict[str, Path],
                                                                     tmp_path: Path, capsys) -> None:
    _build(pipeline_env["warehouse"])
    assert cli.main(["export", "--out", str(tmp_path / "out")]) == 0
    folders = list((tmp_path / "out").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("dev_eval_2026-11-20_")
    folder = folders[0]
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "records.jsonl", "records.parquet"]
    lines = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["records"] == len(lines) and manifest["window_start"] == "2026-11-19"
    assert folder.name.endswith(manifest["dataset_version"])
    for r in lines:
        assert set(r["inputs"]) == {"request"} and r["inputs"]["request"].startswith("Refund order")
        assert r["outputs"]["response"].startswith("Refunded") and r["outputs"]["tool_path"] == ["lookup", "refund"]
        assert r["expectations"] == {}
        assert r["source"] == {"source_type": "TRACE", "source_data": {"trace_id": r["trace_id"]}}
        assert r["weight"] >= 1 and 0 < r["inclusion_probability"] <= 1
    # 30 distinct requests, seen on both days: one record each, standing for both days' traces
    assert len(lines) == 30 and sum(r["weight"] for r in lines) == pytest.approx(60)
    assert "@" not in (folder / "records.jsonl").read_text()
    assert "Exported 30 records" in capsys.readouterr().out

    parquet = pl.read_parquet(folder / "records.parquet")
    assert parquet["trace_id"].to_list() == [r["trace_id"] for r in lines]
    assert parquet["inputs"].struct.field("request").to_list() == [r["inputs"]["request"] for r in lines]
    frame = pd.read_json(folder / "records.jsonl", lines=True)  # what mlflow.genai.evaluate(data=frame) gets
    assert list(frame.columns[:4]) == ["inputs", "outputs", "expectations", "trace_id"]
    assert isinstance(frame["inputs"][0], dict)


def test_export_picks_the_window_and_the_format(pipeline_env: dict[str, Path], tmp_path: Path) -> None:
    _build(pipeline_env["warehouse"], end=DAYS[0])
    _build(pipeline_env["warehouse"], end=DAYS[1])
    with warehouse.connect(pipeline_env["warehouse"], read_only=True) as con:
        result = export.export_dev_eval(con, tmp_path / "out", DAYS[0], ("jsonl",))
    assert result.window_end == DAYS[0] and [p.name for p in result.files] == ["records.jsonl", "manifest.json"]
    assert cli.main(["export", "--end", "2026-11-19", "--format", "parquet", "--out", str(tmp_path / "p")]) == 0
    assert [p.name for p in next((tmp_path / "p").iterdir()).iterdir() if p.suffix == ".parquet"] == ["records.parquet"]


def test_export_without_a_dataset_says_what_to_do(pipeline_env: dict[str, Path], tmp_path: Path, capsys) -> None:
    assert cli.main(["export", "--out", str(tmp_path / "out")]) == 2  # no warehouse at all
    assert "does not exist" in capsys.readouterr().err
    with warehouse.connect(pipeline_env["warehouse"]):
        pass
    assert cli.main(["export", "--out", str(tmp_path / "out")]) == 1
    assert "materialize the dev_eval_dataset asset" in capsys.readouterr().err
    _build(pipeline_env["warehouse"])
    assert cli.main(["export", "--end", "2026-11-01", "--out", str(tmp_path / "out")]) == 1
    assert "no records for the window ending 2026-11-01" in capsys.readouterr().err
    with pytest.raises(ValueError, match="Unknown export format"):
        with warehouse.connect(pipeline_env["warehouse"], read_only=True) as con:
            export.export_dev_eval(con, tmp_path / "x", None, ("csv",))
