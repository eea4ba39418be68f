"""Asset metadata shown in the Dagster UI: markdown tables and rounded figures, built one way everywhere."""

from collections.abc import Iterable, Sequence
from typing import Any


def cell(value: Any, digits: int = 4) -> str:
    """A table cell: floats rounded, None as an empty cell, pipes escaped so a value cannot break the table."""
    if value is None:
        return ""
    if isinstance(value, float):
        value = round(value, digits)
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, limit: int | None = None,
             rest: str = "more rows") -> str:
    """A markdown table; with ``limit``, the first rows and a line counting the ones left out (``rest`` names them)."""
    rows = list(rows)
    shown = rows if limit is None else rows[:limit]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in shown]
    text = "\n".join(lines) + "\n"
    if len(rows) > len(shown):
        text += f"\n{len(rows) - len(shown)} {rest}.\n"
    return text


def rounded(values: dict[str, Any], digits: int = 4) -> dict[str, Any]:
    """The same mapping with floats rounded (for metadata values read by people)."""
    return {k: round(v, digits) if isinstance(v, float) else v for k, v in values.items()}
