"""The landing zone as the sensor sees it: which files count, which landed since a time, the days their spans
touch (read cheaply from their content, so a late span asks for its own day, not the day it arrived), and the
days ingestion marked for a rebuild because spans of their traces arrived while another day was being run.

Nothing here opens the warehouse: the sensor must stay fast while runs hold DuckDB's lock.
"""

import datetime as dt
import gzip
import os
import re
import time
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from eval_pipeline.lib.ingest import otlp_proto, readers
from eval_pipeline.lib.ingest.records import MAX_NS, MIN_NS, BadRecord

_NS_PER_DAY = 86_400_000_000_000
_EPOCH = dt.date(1970, 1, 1)

# Landing-zone files that are not trace data and are skipped silently (as is anything hidden: a name, or a
# folder, starting with ".").
SKIP_SUFFIXES = (".tmp", ".part", ".partial", ".lock", ".md", ".txt", ".duckdb", ".wal", ".key")

_DAY_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A span's start time in OTLP/JSON text (camelCase or snake_case key, number or string value). The key
# inside a JSON string would be escaped (\"), so text that merely mentions it does not match.
_START = re.compile(rb'"start(?:TimeUnixNano|_time_unix_nano)"\s*:\s*"?(\d{1,20})')
_CHUNK = 8 << 20
# A protobuf file is parsed whole to find its start times; above this, its day is that of file_day.
_PROTO_SCAN_BYTES = 64 << 20


def landing_files(landing_dir: Path) -> list[Path]:
    """Every candidate trace file under the landing zone, recursively, in a stable order."""
    if not landing_dir.is_dir():
        return []
    out = []
    for p in landing_dir.rglob("*"):
        rel = p.relative_to(landing_dir).parts
        if (not any(part.startswith(".") for part in rel) and not p.name.endswith(SKIP_SUFFIXES)
                and p.is_file()):
            out.append(p)
    return sorted(out)


def file_day(path: Path, mtime_ns: int) -> str:
    """The day (``YYYY-MM-DD``) a landed file most likely belongs to when its content says nothing: a
    YYYY-MM-DD folder in its path (the receiver's layout), else the UTC day it was written."""
    for part in reversed(path.parts[:-1]):
        if _DAY_DIR.match(part):
            return part
    return dt.datetime.fromtimestamp(mtime_ns / 1e9, dt.UTC).date().isoformat()


def _days(times: Iterable[int]) -> set[str]:
    return {(_EPOCH + dt.timedelta(days=t // _NS_PER_DAY)).isoformat() for t in times if MIN_NS <= t < MAX_NS}


def _proto_starts(data: bytes) -> list[int]:
    chunks = []
    if otlp_proto.looks_length_prefixed(data):
        pos = 0
        while pos < len(data):
            size = int.from_bytes(data[pos:pos + 4], "big")
            chunks.append(data[pos + 4:pos + 4 + size])
            pos += 4 + size
    else:
        chunks.append(data)
    out = []
    for chunk in chunks:
        try:
            msg = otlp_proto.parse_message(chunk)
        except BadRecord:
            continue
        out += [s.start_time_unix_nano for rs in msg.resource_spans for ss in rs.scope_spans for s in ss.spans]
    return out


def _chunks(path: Path) -> Iterator[bytes]:
    """The file's content (decompressed if gzip) in chunks, so the sensor never holds a large file; a corrupt
    or cut gzip stream ends the chunks where it breaks."""
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    try:
        with opener(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                yield chunk
    except (OSError, EOFError, zlib.error):
        return


def span_days(path: Path, max_bytes: int = readers.MAX_FILE_BYTES) -> set[str]:
    """The UTC days (``YYYY-MM-DD``) of the span start times a file holds, read cheaply: a scan of the JSON text
    in chunks, or the start times of a protobuf file's spans and nothing else; empty when it cannot tell."""
    starts: list[int] = []
    carry = b""
    first = None
    try:
        for chunk in _chunks(path):
            first = chunk if first is None else first
            text = carry + chunk
            starts += [int(t) for t in _START.findall(text)]
            carry = text[-64:]  # a start time cut by the chunk boundary is found with the next chunk
    except OSError:
        return set()
    if starts or first is None or first.lstrip()[:1] in (b"{", b"["):
        return _days(starts)
    try:
        if path.stat().st_size > min(max_bytes, _PROTO_SCAN_BYTES):
            return set()
        data = b"".join(_chunks(path))
    except OSError:
        return set()
    return _days(_proto_starts(data))


def landed_since(landing_dir: Path, after_ns: int, max_bytes: int = readers.MAX_FILE_BYTES) -> tuple[list[str], int]:
    """The days (sorted ``YYYY-MM-DD``) touched by files written after ``after_ns``, and the newest modification
    time seen (``after_ns`` when nothing is newer): what the landing sensor asks runs for. A file's days are those
    of its spans' start times; a file that does not tell (unreadable, empty) counts for :func:`file_day`, so the
    run that quarantines it happens."""
    newest = after_ns
    days: set[str] = set()
    for path in landing_files(landing_dir):
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            continue  # gone since it was listed
        if mtime > after_ns:
            days |= span_days(path, max_bytes) or {file_day(path, mtime)}
            newest = max(newest, mtime)
    return sorted(days), newest


# --------------------------------------------------------------------------------- days to rebuild
# A run that reads late spans of a trace stored on another day marks that day with an empty file in the landing
# zone's hidden folder (which ingestion skips): the sensor, which sees only the landing zone, asks for it.


def cache_path(warehouse_file: str | Path) -> Path:
    """The Parquet cache beside a warehouse file: ``<warehouse>.landed/``."""
    return Path(str(warehouse_file) + ".landed")


def _stale_dir(landing_dir: Path) -> Path:
    return landing_dir / ".eval_pipeline" / "rebuild"


def mark_stale(landing_dir: Path, days: Iterable[dt.date]) -> None:
    """Ask for ``days`` to be built again: one empty marker file per day, touched now."""
    folder = _stale_dir(landing_dir)
    for day in days:
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / day.isoformat()
        before = marker.stat().st_mtime_ns if marker.exists() else 0
        marker.touch()
        # Strictly later than any mark the sensor may have seen, even within the file system's clock tick.
        now = max(time.time_ns(), before + 1)
        os.utime(marker, ns=(now, now))


def stale_since(landing_dir: Path, after_ns: int) -> tuple[list[str], int]:
    """The days marked for a rebuild after ``after_ns`` (sorted ``YYYY-MM-DD``), and the newest mark seen."""
    folder = _stale_dir(landing_dir)
    newest = after_ns
    days = []
    if folder.is_dir():
        for marker in folder.iterdir():
            try:
                t = marker.stat().st_mtime_ns
            except OSError:
                continue
            if t > after_ns and _DAY_DIR.match(marker.name):
                days.append(marker.name)
                newest = max(newest, t)
    return sorted(days), newest


def clear_stale(landing_dir: Path, day: dt.date, built_from_ns: int) -> None:
    """The day was built from everything landed up to ``built_from_ns``: its marker goes, unless it was set
    again since."""
    marker = _stale_dir(landing_dir) / day.isoformat()
    try:
        if marker.stat().st_mtime_ns <= built_from_ns:
            marker.unlink()
    except OSError:
        pass
