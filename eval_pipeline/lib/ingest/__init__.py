"""Ingestion: OTLP files in the landing zone -> the day's ``spans`` and ``raw_traces``.

- :mod:`.readers`: every on-disk OTLP form (JSON, JSON lines, protobuf, length-prefixed, gzip) -> raw spans
  and problems, never an exception for bad data;
- :mod:`.normalize`: the semantic conventions producers write -> one canonical span row (``COLUMNS``);
- :mod:`.files`: which landing files count and which changed, each parsed once into the Parquet cache,
  ``landing_files`` and ``quarantine`` bookkeeping, the day a file belongs to;
- :mod:`.day`: a day's ``spans`` and ``raw_traces`` rebuilt from the cache, the day's figures, and
  :func:`ingest_day`, the whole step the ``raw_traces`` asset runs.
"""

from eval_pipeline.lib.ingest.day import DayIngest, DayResult, build_day, ingest_day, quarantine_share
from eval_pipeline.lib.ingest.files import (
    FileResult,
    IngestStats,
    cache_dir,
    changed_files,
    file_day,
    ingest_files,
    landed_since,
    landing_files,
    parse_file,
)
from eval_pipeline.lib.ingest.normalize import COLUMNS, normalize_span
from eval_pipeline.lib.ingest.readers import MAX_ATTRIBUTE_CHARS, FileRead, Problem, RawSpan, read_bytes, read_file

__all__ = [
    "COLUMNS", "MAX_ATTRIBUTE_CHARS", "DayIngest", "DayResult", "FileRead", "FileResult", "IngestStats", "Problem",
    "RawSpan", "build_day", "cache_dir", "changed_files", "file_day", "ingest_day", "ingest_files", "landed_since",
    "landing_files", "normalize_span", "parse_file", "quarantine_share", "read_bytes", "read_file",
]
