"""Ingestion: OTLP files in the landing zone -> the day's ``spans`` and ``raw_traces``.

- :mod:`.readers`: every on-disk OTLP form (JSON, JSON lines, protobuf, length-prefixed, gzip) -> raw spans
  and problems;
- :mod:`.normalize`: the semantic conventions producers write -> one canonical span row;
- :mod:`.files`: landing-zone files, parsed once per (size, mtime) into the Parquet cache, ``landing_files``.
"""

from eval_pipeline.lib.ingest.files import (
    DayResult,
    FileResult,
    IngestStats,
    build_day,
    cache_dir,
    changed_files,
    ingest_files,
    landing_files,
    parse_file,
    quarantine_share,
)
from eval_pipeline.lib.ingest.normalize import COLUMNS, normalize_span
from eval_pipeline.lib.ingest.readers import MAX_ATTRIBUTE_CHARS, FileRead, Problem, RawSpan, read_bytes, read_file

__all__ = [
    "COLUMNS", "MAX_ATTRIBUTE_CHARS", "DayResult", "FileRead", "FileResult", "IngestStats", "Problem", "RawSpan",
    "build_day", "cache_dir", "changed_files", "ingest_files", "landing_files", "normalize_span", "parse_file",
    "quarantine_share", "read_bytes", "read_file",
]
