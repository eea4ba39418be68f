"""Export the dev-eval dataset as JSONL and Parquet files that eval tools load as they are.

Each record has ``inputs`` (what the agent was asked), ``outputs`` (what it answered), ``expectations``
(empty: production traces carry no labels; reviewers add them) and the source trace id, the shape
``mlflow.genai.evaluate(data=...)`` and ``mlflow.genai.datasets`` accept, and that Hugging Face
``datasets.load_dataset("json" | "parquet", ...)``, pandas and polars read directly. Weights and
inclusion probabilities travel along so figures computed on the export stay unbiased for production.

Layout: ``<out>/dev_eval_<window_end>_<dataset_version>/`` with ``records.jsonl``, ``records.parquet``
and ``manifest.json``. A version is a content hash, so a folder is never overwritten with other content.
"""

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from eval_pipeline.lib.warehouse import load_sql

FORMATS = ("jsonl", "parquet")

_SCHEMA = pa.schema([
    ("inputs", pa.struct([("request", pa.string())])),
    ("outputs", pa.struct([("response", pa.string()), ("tool_path", pa.list_(pa.string())),
                           ("retrieved_context", pa.list_(pa.string()))])),
    ("expectations", pa.map_(pa.string(), pa.string())),
    ("trace_id", pa.string()),
    ("source", pa.struct([("source_type", pa.string()), ("source_data", pa.struct([("trace_id", pa.string())]))])),
    ("tags", pa.struct([("trace_date", pa.string()), ("status", pa.string()), ("stratum", pa.string()),
                        ("latency_tier", pa.string()), ("model", pa.string()), ("service_name", pa.string())])),
    ("weight", pa.float64()),
    ("inclusion_probability", pa.float64()),
    ("duplicate_count", pa.int64()),
    ("dataset_version", pa.string()),
])


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    files: list[Path]
    records: int
    window_start: dt.date
    window_end: dt.date
    dataset_version: str


def latest_window_end(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The newest window end built in ``dev_eval_dataset``; raises when none was built."""
    end = con.execute(load_sql("dataset/dev_eval_dataset_latest_window")).fetchall()[0][0] if _has_table(con) else None
    if end is None:
        msg = ("No dev-eval dataset has been built in this warehouse; materialize the dev_eval_dataset asset "
               "for a day first (in the UI, or `dagster asset materialize -m eval_pipeline.definitions "
               "--select dev_eval_dataset --partition YYYY-MM-DD`).")
        raise LookupError(msg)
    return end


def records(con: duckdb.DuckDBPyConnection, window_end: dt.date) -> list[dict]:
    """The dev-eval records of ``window_end`` in export shape, ordered by trace id."""
    if not _has_table(con):
        latest_window_end(con)
    rows = con.sql(load_sql("dataset/dev_eval_dataset_records"), params={"end": window_end}).to_arrow_table().to_pylist()
    if not rows:
        msg = (f"The dev-eval dataset has no records for the window ending {window_end}; materialize "
               "dev_eval_dataset for that day, or leave out --end to export the newest one.")
        raise LookupError(msg)
    return [_record(r) for r in rows]


def _record(r: dict) -> dict:
    return {
        "inputs": {"request": r["request"]},
        "outputs": {"response": r["response"], "tool_path": r["tool_path"] or [],
                    "retrieved_context": r["retrieved_context"] or []},
        "expectations": {},
        "trace_id": r["trace_id"],
        "source": {"source_type": "TRACE", "source_data": {"trace_id": r["trace_id"]}},
        "tags": {"trace_date": r["trace_date"].isoformat(), "status": r["status"], "stratum": r["stratum"],
                 "latency_tier": r["latency_tier"], "model": r["model"], "service_name": r["service_name"]},
        "weight": r["weight"],
        "inclusion_probability": r["inclusion_probability"],
        "duplicate_count": r["duplicate_count"],
        "dataset_version": r["dataset_version"],
        "_window": (r["window_start"], r["window_end"]),
    }


def export_dev_eval(con: duckdb.DuckDBPyConnection, out_dir: Path, window_end: dt.date | None = None,
                    formats: tuple[str, ...] = FORMATS) -> ExportResult:
    """Write the dev-eval dataset of ``window_end`` (default: the newest) under ``out_dir``."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        msg = f"Unknown export format(s) {unknown or list(formats)}; choose from {list(FORMATS)}."
        raise ValueError(msg)
    end = window_end or latest_window_end(con)
    rows = records(con, end)
    start, _ = rows[0]["_window"]
    for r in rows:
        del r["_window"]
    version = rows[0]["dataset_version"] or "unversioned"
    folder = Path(out_dir) / f"dev_eval_{end}_{version}"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    if "jsonl" in formats:
        path = folder / "records.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        files.append(path)
    if "parquet" in formats:
        path = folder / "records.parquet"
        table = pa.Table.from_pylist([{**r, "expectations": list(r["expectations"].items())} for r in rows],
                                     schema=_SCHEMA)
        pq.write_table(table, path)
        files.append(path)
    manifest = {
        "name": "dev_eval_dataset", "dataset_version": version, "window_start": str(start),
        "window_end": str(end), "records": len(rows), "weight_sum": sum(r["weight"] for r in rows),
        "files": [p.name for p in files],
        "fields": {"inputs": "what the agent was asked (masked)", "outputs": "what it answered (masked)",
                   "expectations": "labels; empty for production traces", "trace_id": "the source trace",
                   "weight": "production traces the record stands for; use it for every estimate"},
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    files.append(path)
    return ExportResult(folder=folder, files=files, records=len(rows), window_start=start, window_end=end,
                        dataset_version=version)


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(load_sql("dataset/dev_eval_dataset_exists")).fetchall()[0][0])
