"""Writing decided candidates back into their texts, for the engine (engine.py).

The engine knows every candidate of a text in order (one ``extract_all`` pass over the text's neutral form,
where each written placeholder reads :data:`NEUTRAL`) and what each becomes. The neutral texts are cut at
the same matches by one ``replace_all`` of the combined expression with a literal (Rust's regex then finds
match bounds only, on its fast path), the gaps and replacements are interleaved back into whole texts
through Arrow offsets, and the placeholders are put back the same way: no per-text Python and no automaton
built from the candidates. A text holding the cut or the neutral character, or whose placeholders a
replacement swallowed, goes through Aho-Corasick ``replace_many`` instead, in runs of a few thousand
candidates.
"""

import numpy as np
import polars as pl
import pyarrow as pa

from eval_pipeline.lib.masking.pseudonyms import PLACEHOLDER

# What a written placeholder reads as while entities are searched: no branch matches its middle character,
# its edges separate words the way the placeholder does.
NEUTRAL = "<\x1c>"
# Where a text is cut at its candidates.
_CUT = "\x00"
# Distinct candidates per replace_many call: an Aho-Corasick automaton of a few thousand patterns builds in a
# few microseconds a pattern; one of tens of thousands takes four times as long a pattern.
_BATCH = 2_000


def neutral(texts: pl.Series) -> pl.Series:
    """``texts`` with every written placeholder set aside as :data:`NEUTRAL` (``texts`` itself when they hold
    none, as fresh traces do: a search costs half of a rewrite)."""
    return texts.str.replace_all(PLACEHOLDER, NEUTRAL) if texts.str.contains(PLACEHOLDER).any() else texts


def replaced(texts: pl.Series, neutral_texts: pl.Series, found: pl.DataFrame, pattern: str) -> pl.Series:
    """``texts`` with their candidates replaced. ``found`` holds every candidate of ``pattern`` in their
    neutral form, in text order: ``pos`` (row), ``match``, ``new`` (what it becomes; null: left as it is)."""
    aside = (texts.str.contains(_CUT, literal=True) | texts.str.contains(NEUTRAL[1], literal=True)).fill_null(False)
    main = (~aside).arg_true()
    own = found["pos"].is_in(main.implode())
    out, swallowed = _spliced(texts.gather(main), neutral_texts.gather(main), _rebased(found.filter(own), main),
                              pattern)
    aside = aside.scatter(main.gather(swallowed), True) if len(swallowed) else aside
    if not aside.any():
        return out
    rows = aside.arg_true()
    kept = pl.Series(np.setdiff1d(main.to_numpy(), rows.to_numpy()), dtype=main.dtype)
    parts = [out.gather(main.search_sorted(kept)),
             _replaced_many(texts.gather(rows), _rebased(found.filter(found["pos"].is_in(rows.implode())), rows))]
    order = np.argsort(np.concatenate([kept.to_numpy(), rows.to_numpy()]), kind="stable")
    return pl.concat(parts).gather(order)


def _rebased(found: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    return found.with_columns(pl.Series("pos", rows.search_sorted(found["pos"]), dtype=pl.UInt32))


def _spliced(texts: pl.Series, neutral_texts: pl.Series, found: pl.DataFrame,
             pattern: str) -> tuple[pl.Series, pl.Series]:
    """The texts with their candidates replaced, and the rows whose placeholders could not be put back."""
    gaps = neutral_texts.str.replace_all(pattern, _CUT).str.split(_CUT)
    n = np.bincount(found["pos"].to_numpy().astype(np.int64), minlength=len(texts))
    out = _interleaved(gaps, found.select(pl.coalesce("new", "match")).to_series(), n)
    written = texts.str.extract_all(PLACEHOLDER)
    counts = written.list.len().fill_null(0).to_numpy().astype(np.int64)
    if not counts.any():
        return out.alias(texts.name), pl.Series([], dtype=pl.UInt32)
    # Put the placeholders back: the neutral marks, in order, are the text's placeholders, in order.
    cut = out.str.split(NEUTRAL)
    bad = cut.list.len().fill_null(1).to_numpy() != counts + 1
    if bad.any():  # those rows are done again by replace_many; here they become ""
        cut = cut.zip_with(pl.Series(~bad), pl.Series([[""]] * len(cut), dtype=cut.dtype))
        written = written.zip_with(pl.Series(~bad), pl.Series([[]] * len(written), dtype=written.dtype))
        counts[bad] = 0
    return _interleaved(cut, written.explode().drop_nulls(), counts).alias(texts.name), pl.Series(bad).arg_true()


def _interleaved(gaps: pl.Series, fill: pl.Series, n: np.ndarray) -> pl.Series:
    """Row r of ``gaps`` holds ``n[r] + 1`` pieces; ``fill`` holds, row after row, the ``n[r]`` strings that go
    between them. Returns each row's pieces and strings joined in turn (null where ``gaps`` is null)."""
    n_gaps = gaps.list.len().fill_null(1).to_numpy().astype(np.int64)
    if not np.array_equal(n_gaps, n + 1):  # the same expression on the same texts: cannot happen
        msg = "masking: a text's candidates changed between two passes of the same expression"
        raise AssertionError(msg)
    size = 2 * n + 1
    first = np.cumsum(size) - size
    gap_row = np.repeat(np.arange(len(n)), n_gaps)
    gap_k = np.arange(len(gap_row)) - np.repeat(np.cumsum(n_gaps) - n_gaps, n_gaps)
    fill_row = np.repeat(np.arange(len(n)), n)
    fill_k = np.arange(len(fill_row)) - np.repeat(np.cumsum(n) - n, n)
    order = np.empty(len(gap_row) + len(fill_row), np.int64)
    order[np.concatenate([first[gap_row] + 2 * gap_k, first[fill_row] + 2 * fill_k + 1])] = np.arange(len(order))
    pieces = pl.concat([gaps.explode().fill_null(""), fill.alias(gaps.name)]).gather(order)
    offsets = pa.array(np.concatenate([[0], np.cumsum(size)]), pa.int64())
    out = pl.Series(gaps.name, pa.LargeListArray.from_arrays(offsets, pieces.to_arrow())).list.join("")
    return out if not gaps.null_count() else pl.select(
        pl.when(gaps.is_null()).then(None).otherwise(out)).to_series()


def _replaced_many(texts: pl.Series, found: pl.DataFrame) -> pl.Series:
    """Aho-Corasick replacement of the decided candidates (``new`` not null) in the texts themselves, in runs
    of rows holding about :data:`_BATCH` candidates, each run replacing only its own."""
    found = found.filter(pl.col("new").is_not_null()).unique(["pos", "match"]).sort("pos")
    if found.is_empty():
        return texts
    pos = found["pos"].to_numpy()
    cuts = np.unique(np.concatenate([[0], pos[::_BATCH], [len(texts)]]))
    parts = []
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        a, b = np.searchsorted(pos, [lo, hi])
        # Longest first: replace_many takes the first pattern that matches at a position.
        batch = (found.slice(int(a), int(b - a)).unique("match")
                 .sort(pl.col("match").str.len_bytes(), descending=True))
        parts.append(texts.slice(int(lo), int(hi - lo)).str.replace_many(batch["match"].to_list(),
                                                                           batch["new"].to_list()))
    return pl.concat(parts)
