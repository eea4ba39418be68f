"""The masking engine: one pass of every detector over a whole column of texts, or over every text of a
raw_traces-shaped frame at once (mask, or scan for what survived).

How it stays fast: every detector is one branch of a single regular expression (ASCII classes only,
so Rust's lazy DFA keeps it at hundreds of MB/s). One ``extract_all`` pass of it over the whole
column, in Rust, is also the pre-filter: texts without a candidate are never touched again. Only the
*distinct* candidates come back to Python: a second Rust pass over them alone cuts each into its
branch's groups (which branch matched, the value, what follows it), then each is validated once
(Luhn, mod-97, phone plans, octet ranges, ...) and, when valid, gets its keyed token once; Aho-Corasick
``replace_many`` calls over the texts that held a candidate, a few thousand candidates each, swap every
candidate for its replacement. A candidate consumes the character before it, so a second pass over the changed texts
finds an entity that directly follows another (``user:pw@10.0.0.5``). No Python code runs per text.

A frame is flattened into one column (top-level texts, then every list element and tool-call field),
masked as a column, and rebuilt through its Arrow offsets; ids are pseudonymised whole.
"""

import functools
import os
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from eval_pipeline.lib.masking.detectors import Detector, normal_form, stages_for
from eval_pipeline.lib.masking.names import NameDetector, mask_names
from eval_pipeline.lib.masking.pseudonyms import token_regex, tokenizer
from eval_pipeline.lib.masking.replace import neutral as _neutral
from eval_pipeline.lib.masking.replace import replaced as _replaced


@dataclass(frozen=True)
class _Compiled:
    """The detectors of one ``privacy.urls`` setting as one expression."""

    detectors: tuple[Detector, ...]
    pattern: str


@functools.cache
def compiled(urls: str = "all") -> tuple[_Compiled, ...]:
    """Each stage of the detectors under ``privacy.urls`` as one combined expression (see detectors.STAGES)."""
    return tuple(_combine(stage) for stage in stages_for(urls))


def _combine(detectors: tuple[Detector, ...]) -> _Compiled:
    """The combined expression: branch ``i`` names its groups ``p{i}`` (the character before the value),
    ``k{i}`` (the prefix kept in clear), ``v{i}`` (the value) and ``t{i}`` (what follows it).

    A branch with a left boundary consumes the character before its value (texts are padded with a
    leading space, so there always is one): a whole match then carries its own context, and the
    same literal elsewhere is the same decision.
    """
    branches = []
    for i, d in enumerate(detectors):
        pre = rf"(?P<p{i}>[^\x01\x02\x1e\x1f{d.before}])" if d.before else rf"(?P<p{i}>)"
        keep = rf"(?P<k{i}>{d.keep})" if d.keep else ""
        tail = rf"(?P<t{i}>{d.tail})" if d.tail else ""
        branches.append(f"{pre}{keep}(?P<v{i}>{d.pattern}){tail}")
    return _Compiled(detectors, "|".join(f"(?:{b})" for b in branches))


# The combined expressions of the default setting, stage by stage (the reference in reference.py reads them with re).
PATTERNS = tuple(c.pattern for c in compiled())


# ------------------------------------------------------------------------- one candidate, decided


_DECIDED = {"match": pl.String, "kind": pl.String, "value": pl.String, "new": pl.String}


def _decide(matches: list[str], key: bytes | None, c: _Compiled) -> pl.DataFrame:
    """Validate each distinct whole match once and compute its token once (``key`` None: no tokens).

    Returns one row per match: ``kind`` (null when validation rejected it), ``value`` (the masked value)
    and ``new`` (what the whole match becomes). A detector with a column validator (``validate_many``) is
    decided in Rust; only its tokens are made in Python.
    """
    parts = _parts(matches, c)
    token = None if key is None else tokenizer(key)
    out = [pl.DataFrame(schema=_DECIDED)]
    for i, d in enumerate(c.detectors):
        rows = parts.filter(pl.col("branch") == i)
        if rows.is_empty():
            continue
        if d.validate_many is None:
            out.append(_decided_in_python(rows, d, token))
            continue
        rows = rows.with_columns(d.validate_many(pl.col("value"), pl.col("tail")).alias("accepted"))
        accepted = rows["accepted"].drop_nulls().to_list()
        tokens = [""] * len(accepted) if token is None else [token(d.kind, normal_form(d.kind, v)) for v in accepted]
        masked = pl.Series("token", tokens, dtype=pl.String)
        ok = rows.filter(pl.col("accepted").is_not_null()).with_columns(masked)
        out.append(pl.concat([
            ok.select("match", pl.lit(d.kind).alias("kind"), pl.col("accepted").alias("value"), pl.concat_str(
                "pre", "keep", "token", pl.col("value").str.slice(pl.col("accepted").str.len_chars()), "tail")
                .alias("new")),
            rows.filter(pl.col("accepted").is_null()).select(
                "match", pl.lit(None, pl.String).alias("kind"), pl.lit("").alias("value"), pl.col("match").alias("new")),
        ]))
    return pl.concat(out)


def _decided_in_python(rows: pl.DataFrame, d: Detector, token: Callable[[str, str], str] | None) -> pl.DataFrame:
    out: dict[str, list[str | None]] = {name: [] for name in _DECIDED}
    for whole, p, k, v, t in zip(*(rows[name].to_list() for name in ("match", "pre", "keep", "value", "tail")),
                                 strict=True):
        accepted = d.validate(v, t)
        kind = d.kind
        if not accepted:
            kind, accepted, new = None, "", whole
        else:
            if isinstance(accepted, tuple):
                kind, accepted = accepted
            new = p + k + ("" if token is None else token(kind, normal_form(kind, accepted))) + v[len(accepted):] + t
        for name, x in zip(_DECIDED, (whole, kind, accepted, new), strict=True):
            out[name].append(x)
    return pl.DataFrame(out, schema=_DECIDED)


def _parts(matches: list[str], c: _Compiled) -> pl.DataFrame:
    """Each whole match cut into its branch's groups, in one Rust pass over the distinct matches: the
    character before, the prefix kept, the branch's index, the value, what follows. A whole match is its
    own first match, through the same branch (nothing in a pattern looks past its match)."""
    n = len(c.detectors)
    whole = pl.Series("match", matches, dtype=pl.String)
    groups = whole.str.extract_groups(c.pattern).struct.unnest()

    def joined(prefix: str) -> pl.Expr:
        cols = [pl.col(f"{prefix}{i}") for i in range(n) if f"{prefix}{i}" in groups.columns]
        return pl.concat_str(cols, ignore_nulls=True) if cols else pl.lit("")

    # Only the branch that matched has groups that took part; the others are null.
    return groups.select(
        whole, joined("p").alias("pre"), joined("k").alias("keep"),
        pl.coalesce([pl.when(pl.col(f"v{i}").is_not_null()).then(pl.lit(i)) for i in range(n)]).alias("branch"),
        pl.coalesce([pl.col(f"v{i}") for i in range(n)]).alias("value"), joined("t").alias("tail"))


# ---------------------------------------------------------------------------------- one column


@dataclass
class MaskResult:
    """Masked texts, one row per entity masked (``index`` into the input, ``kind``), and totals."""

    texts: pl.Series
    entities: pl.DataFrame
    counts: Counter


def _padded(texts: pl.Series) -> pl.Series:
    # No branch matches the control characters the markers use, so input text cannot forge one.
    return pl.select(pl.concat_str([pl.lit(" "), pl.lit(texts.cast(pl.String))])).to_series()


def _found(padded: pl.Series, pattern: str) -> pl.DataFrame:
    """Every candidate match of the combined expression in the (padded) texts: (index, match).

    One pass of the combined automaton over every text; it doubles as the pre-filter: texts without
    a candidate (most of them) never meet validation or replacement. (A ``contains`` pass first, to
    search only the texts with a candidate, costs more than it saves.)
    """
    return (padded.str.extract_all(pattern).alias("match").to_frame().with_row_index("index")
            .filter(pl.col("match").list.len() > 0).explode("match"))


# Passes over the texts that changed: an entity right after another is found by the next one.
PASSES = 3


# Texts per chunk when a column is masked in parallel: each chunk runs in its own thread (polars'
# string kernels release the GIL), so both cores work; small columns stay in one piece.
_CHUNK_TEXTS = 100_000


def mask_series(texts: pl.Series, key: bytes, urls: str = "all") -> MaskResult:
    """Mask a whole column of texts at once (nulls stay null), in parallel chunks when it is large;
    ``urls`` is the ``privacy.urls`` setting."""
    stages = compiled(urls)
    workers = min(os.cpu_count() or 1, 8)
    n = len(texts)
    if workers < 2 or n < 2 * _CHUNK_TEXTS:
        return _mask_chunk(texts, key, stages)
    size = max(_CHUNK_TEXTS, -(-n // workers))
    starts = list(range(0, n, size))
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda start: _mask_chunk(texts.slice(start, size), key, stages), starts))
    entities = pl.concat([p.entities.with_columns(pl.col("index") + start) for p, start in zip(parts, starts,
                                                                                                strict=True)])
    counts: Counter = Counter()
    for p in parts:
        counts.update(p.counts)
    return MaskResult(pl.concat([p.texts for p in parts]).alias(texts.name), entities, counts)


def _mask_chunk(texts: pl.Series, key: bytes, stages: tuple[_Compiled, ...]) -> MaskResult:
    """Mask a column of texts (nulls stay null), stage by stage.

    A match consumes the character before its value; when that character belonged to the previous
    entity (``user:pw@10.0.0.5``), the next pass, over the texts that changed only, finds the rest.
    """
    name = texts.name
    masked = _padded(texts)
    entities = [pl.DataFrame(schema={"index": pl.UInt32, "kind": pl.String})]
    for c in stages:
        masked = _mask_stage(masked, key, c, entities)
    entities_df = pl.concat(entities)
    counts = Counter(dict(entities_df.group_by("kind").len().iter_rows()))
    return MaskResult(masked.str.slice(1).alias(name), entities_df, counts)


def _mask_stage(masked: pl.Series, key: bytes, c: _Compiled, entities: list[pl.DataFrame]) -> pl.Series:
    rows = pl.Series("index", range(len(masked)), dtype=pl.UInt32)
    seen: set[str] = set()
    for i in range(PASSES):
        # The first pass reads every text: no copy of the column for it.
        subset = masked if i == 0 else masked.gather(rows)
        neutral = _neutral(subset)
        found = _found(neutral, c.pattern)
        # A candidate rejected in an earlier pass is rejected again: only new ones are decided.
        fresh = [m for m in found["match"].unique().to_list() if m not in seen]
        if not fresh:
            break
        seen.update(fresh)
        table = _decide(fresh, key, c).select("match", "kind", "new")
        # Every candidate of the texts stays, in text order: one seen in an earlier pass is left as it is.
        found = found.join(table, on="match", how="left", maintain_order="left")
        hits = found.filter(pl.col("kind").is_not_null())
        if hits.is_empty():
            break
        hit_rows = hits["index"].unique().sort()
        in_hit_rows = found.filter(pl.col("index").is_in(hit_rows.implode()))
        replaced = _replaced(subset.gather(hit_rows), neutral.gather(hit_rows), in_hit_rows.with_columns(
            pl.Series("pos", hit_rows.search_sorted(in_hit_rows["index"]), dtype=pl.UInt32)), c.pattern)
        entities.append(hits.select(rows.gather(hits["index"]).alias("index"), "kind"))
        rows = rows.gather(hit_rows)
        masked = masked.scatter(rows, replaced)
    return masked


def scan_series(texts: pl.Series, urls: str = "all") -> pl.DataFrame:
    """Entities still present in ``texts`` (placeholders already written are ignored), one row each:
    ``index`` (position in ``texts``), ``kind`` and ``value``. The masking check uses it."""
    schema = {"index": pl.UInt32, "kind": pl.String, "value": pl.String}
    neutral = _neutral(_padded(texts))
    out = [pl.DataFrame(schema=schema)]
    for c in compiled(urls):
        found = _found(neutral, c.pattern)
        if found.is_empty():
            continue
        kinds = _decide(found["match"].unique().to_list(), None, c).select("match", "kind", "value")
        out.append(found.join(kinds, on="match", how="left").filter(pl.col("kind").is_not_null())
                   .select(list(schema)))
    return pl.concat(out)


# Columns of raw_traces that carry trace text (tool_calls' arguments and results, retrieved_context
# documents included); user_id and session_id are pseudonymised whole.
TEXT_COLUMNS = ("request", "response", "error_message", "error_type", "root_span_name")
LIST_COLUMNS = ("retrieved_context",)
# Lists of structs and the text fields of each element that are masked.
STRUCT_LIST_FIELDS = {"tool_calls": ("arguments", "result"), "feedback": ("label",)}
ID_COLUMNS = {"user_id": "USER", "session_id": "SESSION"}


# ----------------------------------------------------------------------------------- one frame


@dataclass
class _Flat:
    """Every text of a raw_traces-shaped frame as one column, and how to put it back.

    ``texts`` concatenates the pieces in order: each scalar text column, then each list column's
    values, then each tool-call field's values; ``rows`` gives each text's row, ``columns`` its piece.
    List columns are cut and rebuilt through their Arrow offsets, so nothing is grouped or joined.
    """

    texts: pl.Series
    rows: np.ndarray
    columns: list[tuple[str, int]]  # (column or "<column>.<field>", number of texts)
    lists: dict[str, tuple[pa.Array, np.ndarray, pa.Array | None]]  # column -> (values, offsets, null mask)


def _list_parts(s: pl.Series) -> tuple[pa.Array, np.ndarray, pa.Array | None]:
    arr = s.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = pa.concat_arrays(arr.chunks) if arr.num_chunks != 1 else arr.chunk(0)
    offsets = arr.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    values = arr.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    mask = arr.is_null() if arr.null_count else None
    return values, offsets - offsets[0], mask


def _flatten(df: pl.DataFrame) -> _Flat:
    n = df.height
    every_row = np.arange(n, dtype=np.int64)
    texts, rows, columns, lists = [], [], [], {}
    for col in TEXT_COLUMNS:
        if col in df.columns:
            texts.append(df[col].cast(pl.String))
            rows.append(every_row)
            columns.append((col, n))
    for col in (*LIST_COLUMNS, *STRUCT_LIST_FIELDS):
        if col not in df.columns:
            continue
        values, offsets, mask = _list_parts(df[col])
        lists[col] = (values, offsets, mask)
        per_row = np.repeat(every_row, np.diff(offsets))
        fields = [(col, values)] if col not in STRUCT_LIST_FIELDS else [
            (f"{col}.{f}", values.field(f)) for f in STRUCT_LIST_FIELDS[col]]
        for name, arr in fields:
            texts.append(pl.Series(name, arr).cast(pl.String))
            rows.append(per_row)
            columns.append((name, len(arr)))
    if not texts:
        return _Flat(pl.Series("text", [], dtype=pl.String), np.zeros(0, np.int64), [], {})
    return _Flat(pl.concat([t.alias("text") for t in texts]), np.concatenate(rows), columns, lists)


# The type of masked_traces.pii_found in the frame: {key, value} entries, written as a DuckDB MAP.
PII_FOUND = pl.List(pl.Struct({"key": pl.String, "value": pl.Int64}))


def mask_frame(df: pl.DataFrame, key: bytes, names: NameDetector | None = None,
               urls: str = "all") -> tuple[pl.DataFrame, Counter]:
    """Mask every text column of a raw_traces-shaped frame and pseudonymise its ids.

    All texts of the partition (top-level columns, every tool call's arguments and result, every
    retrieved document) go through :func:`mask_series` as one column; then, with a name detector
    (names.py), person names. The frame gains ``pii_found`` (a list of {key, value} counts by entity
    type, for a DuckDB MAP); the Counter sums them.
    """
    flat = _flatten(df)
    # The ids' pseudonyms (Python hashing) are made while the texts' Rust passes run.
    with ThreadPoolExecutor(1) as pool:
        ids = {col: pool.submit(_pseudonymised, df[col], kind, key) for col, kind in ID_COLUMNS.items()
               if col in df.columns}
        result = mask_series(flat.texts, key, urls)
        ids = {col: future.result() for col, future in ids.items()}
    texts, entities, counts = result.texts, result.entities, result.counts
    if names is not None:
        texts, person = mask_names(texts, key, names)
        entities = pl.concat([entities, person])
        counts = counts + Counter({"PERSON": person.height})

    out = df
    pieces, start = {}, 0
    for name, length in flat.columns:
        pieces[name] = texts.slice(start, length)
        start += length
    for col in TEXT_COLUMNS:
        if col in pieces:
            out = out.with_columns(pieces[col].alias(col))
    for col, (values, offsets, mask) in flat.lists.items():
        if col in STRUCT_LIST_FIELDS:
            fields = [pieces[f"{col}.{f.name}"].to_arrow() if f.name in STRUCT_LIST_FIELDS[col]
                      else values.field(f.name)
                      for f in values.type]
            values = pa.StructArray.from_arrays(fields, names=[f.name for f in values.type],
                                                mask=values.is_null() if values.null_count else None)
        else:
            values = pieces[col].to_arrow()
        rebuilt = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), values, mask=mask)
        out = out.with_columns(pl.Series(col, rebuilt).cast(df.schema[col]))
    out = out.with_columns(pseudonyms.alias(col) for col, pseudonyms in ids.items())
    per_row = (entities.with_columns(pl.Series("_row", flat.rows[entities["index"].to_numpy()]))
               .group_by("_row", "kind").len()
               .sort("kind")
               .group_by("_row").agg(pl.struct(pl.col("kind").alias("key"), pl.col("len").cast(pl.Int64)
                                               .alias("value")).alias("pii_found")))
    pii = (pl.DataFrame({"_row": np.arange(df.height, dtype=np.int64)})
           .join(per_row, on="_row", how="left", maintain_order="left")["pii_found"]
           .fill_null(pl.lit([], dtype=PII_FOUND)).cast(PII_FOUND))
    return out.with_columns(pii.alias("pii_found")), counts


def scan_frame(df: pl.DataFrame, urls: str = "all") -> pl.DataFrame:
    """Entities left in a masked_traces-shaped frame: ``trace_id``, ``column``, ``kind``, ``value``.

    Also reports ``user_id`` / ``session_id`` values that are not pseudonyms (kind ``USER_ID`` /
    ``SESSION_ID``).
    """
    flat = _flatten(df)
    found = scan_series(flat.texts, urls)
    names = np.concatenate([np.full(n, name, dtype=object) for name, n in flat.columns]) if flat.columns else []
    idx = found["index"].to_numpy()
    out = found.select(
        pl.Series("trace_id", df["trace_id"].gather(flat.rows[idx]) if len(idx) else [], dtype=pl.String),
        pl.Series("column", np.asarray(names)[idx] if len(idx) else [], dtype=pl.String),
        "kind", "value")
    for col, kind in ID_COLUMNS.items():
        if col in df.columns:
            bad = df.filter(pl.col(col).is_not_null() & ~pl.col(col).cast(pl.String).str.contains(token_regex(kind)))
            out = pl.concat([out, bad.select(pl.col("trace_id").cast(pl.String), pl.lit(col).alias("column"),
                                             pl.lit(f"{kind}_ID").alias("kind"),
                                             pl.col(col).cast(pl.String).alias("value"))])
    return out


def redacted(value: str) -> str:
    """The shape of a value without its content (``Xxxx.Xxx@xxxx.xxx``, ``+00 00 0000 0000``): what a
    check may show about text that should not be there."""
    shape = re.sub(r"[A-Z]", "X", re.sub(r"[a-z]", "x", re.sub(r"[0-9]", "0", value)))
    return shape if len(shape) <= 40 else shape[:37] + "..."


def _pseudonymised(ids: pl.Series, kind: str, key: bytes) -> pl.Series:
    distinct = ids.cast(pl.String).drop_nulls().unique().to_list()
    token = tokenizer(key)
    tokens = [token(kind, v) for v in distinct]
    return ids.cast(pl.String).replace_strict(distinct, tokens, default=None, return_dtype=pl.String)


def text_bytes(df: pl.DataFrame) -> int:
    """Bytes of trace text in a raw_traces-shaped frame: what :func:`mask_frame` reads."""
    return int(_flatten(df).texts.str.len_bytes().sum() or 0)


def texts_of(df: pl.DataFrame) -> pl.Series:
    """Every text of a raw_traces-shaped frame as one column, in the order :func:`mask_frame` masks them
    (the benchmark masks it with :func:`mask_series` to time the engine without the frame around it)."""
    return _flatten(df).texts
