"""Ingestion: OTLP files in the landing zone -> the day's ``spans`` and ``raw_traces``.

- :mod:`.readers`: every on-disk OTLP form (JSON, JSON lines, protobuf, length-prefixed, gzip) -> raw spans
  and problems, never an exception for bad data (:mod:`.otlp_json`, :mod:`.otlp_proto`; the records and the
  value checks they share in :mod:`.records`);
- :mod:`.normalize`: the semantic conventions producers write -> one canonical span row (``COLUMNS``; the
  text of messages and wrapped values in :mod:`.text`);
- :mod:`.landing`: which landing files count, the days a new file's spans touch (for the sensor), the days
  marked for a rebuild;
- :mod:`.files`: which landing files changed, each parsed once into the Parquet cache, ``landing_files``,
  ``landed_spans`` and ``quarantine`` bookkeeping;
- :mod:`.housekeeping`: pruning what killed runs left in the cache, retention of old spans;
- :mod:`.day`: a day's ``spans`` and ``raw_traces`` rebuilt from the cache, the day's figures, and
  :func:`ingest_day`, the whole step the ``raw_traces`` asset runs.
"""

from eval_pipeline.lib.ingest.day import DayIngest, DayResult, build_day, ingest_day, quarantine_share
from eval_pipeline.lib.ingest.files import (
    FileResult,
    IngestStats,
    cache_dir,
    changed_files,
    index_unindexed,
    ingest_files,
    parse_file,
)
from eval_pipeline.lib.ingest.housekeeping import RetentionResult, apply_retention, is_expired, prune_cache
from eval_pipeline.lib.ingest.landing import (
    cache_path,
    file_day,
    landed_since,
    landing_files,
    mark_stale,
    span_days,
    stale_since,
)
from eval_pipeline.lib.ingest.normalize import COLUMNS, normalize_checked, normalize_span
from eval_pipeline.lib.ingest.readers import (
    MAX_ATTRIBUTE_CHARS,
    MAX_FILE_BYTES,
    FileRead,
    Problem,
    RawSpan,
    read_bytes,
    read_file,
)

__all__ = [
    "COLUMNS", "MAX_ATTRIBUTE_CHARS", "MAX_FILE_BYTES", "DayIngest", "DayResult", "FileRead", "FileResult",
    "IngestStats", "Problem", "RawSpan", "RetentionResult", "apply_retention", "build_day", "cache_dir",
    "cache_path", "changed_files", "file_day", "index_unindexed", "ingest_day", "ingest_files", "is_expired",
    "landed_since", "landing_files", "mark_stale", "normalize_checked", "normalize_span", "parse_file",
    "prune_cache", "quarantine_share", "read_bytes", "read_file", "span_days", "stale_since",
]
