"""Strata that carry data: the one rule that merges sparse cells, used by the selection and the drift checks.

A cell is a combination of the four stratification dimensions (tool signature, status, latency tier,
model). Most combinations hold a handful of traces, and a stratum of three traces gives neither a rate
nor a stable mix, so cells merge up a fixed hierarchy. A cell's size is what it holds (the selection:
its proportional share of the target, in records; the drift checks: the day's traces), ``enough`` the
size a stratum needs:

0. a tool path whose cells of one status hold less than ``enough`` together is rare: its cells pool as
   ``(rare paths)`` from the start, so the long tail stays apart (and oversampled) instead of vanishing
   into the leftovers of common paths;
1. every cell whose size reaches ``enough`` is a stratum of its own;
2. the others pool by dropping the model (``search | ok | <=p50 | *``: "the other models");
3. what is still too small pools by dropping the latency tier (``search | ok | * | *``);
4. what is still too small pools by dropping the tool signature (``* | ok | * | *``: the leftovers of
   common paths), whatever its size; rare paths stop at ``(rare paths) | ok | * | *``.

Status is never dropped, so error traces never share a stratum with ok traces. ``*`` stands for the
values of that dimension that did not get a stratum of their own that day. Only sparse cells pool: a
large cell keeps its stratum even when a sibling merges. The rule is a pure function of the sizes, so a
day's strata (and the bins of the drift checks) follow from the day's counts alone.
"""

from collections.abc import Mapping, Sequence

DIMENSIONS = ("tool_signature", "status", "latency_tier", "model")
MERGED = "*"
RARE = "(rare paths)"
# The order in which dimensions are dropped: model, then latency tier, then tool signature (indices into
# DIMENSIONS). Status (index 1) is never dropped.
MERGE_ORDER = (3, 2, 0)

Cell = tuple[str, ...]


def merge(sizes: Mapping[Cell, float], enough: float, order: Sequence[int] = MERGE_ORDER) -> dict[Cell, Cell]:
    """Each cell's stratum by the rule above. ``order`` lists the dimensions dropped one after the other; the
    last is the path (rare ones pool first). ``enough <= 0`` keeps every cell."""
    path_dim, kept = order[-1], [i for i in range(len(next(iter(sizes), ()))) if i not in order[:-1]]
    paths: dict[Cell, float] = {}
    for cell, size in sizes.items():
        path = tuple(cell[i] for i in kept)
        paths[path] = paths.get(path, 0.0) + size
    pending: dict[Cell, float] = {}
    members: dict[Cell, list[Cell]] = {}
    for cell, size in sizes.items():
        rare = paths[tuple(cell[i] for i in kept)] < enough
        key = (*cell[:path_dim], RARE, *cell[path_dim + 1:]) if rare else cell
        pending[key] = pending.get(key, 0.0) + size
        members.setdefault(key, []).append(cell)
    out: dict[Cell, Cell] = {}
    for dim in order:
        pooled: dict[Cell, float] = {}
        pooled_members: dict[Cell, list[Cell]] = {}
        for key, size in pending.items():
            if size >= enough or (dim == path_dim and key[dim] == RARE):
                out.update(dict.fromkeys(members[key], key))
                continue
            parent = (*key[:dim], MERGED, *key[dim + 1:])
            pooled[parent] = pooled.get(parent, 0.0) + size
            pooled_members.setdefault(parent, []).extend(members[key])
        pending, members = pooled, pooled_members
    for key in pending:
        out.update(dict.fromkeys(members[key], key))
    return out


def is_rare(key: Cell) -> bool:
    """Whether a stratum (or bin) pools rare tool paths."""
    return RARE in key


def name(key: Cell) -> str:
    """A stratum's name: its values joined by `` | `` (``*`` for a dropped dimension)."""
    return " | ".join("" if v is None else str(v) for v in key)

