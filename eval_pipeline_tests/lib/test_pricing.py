"""Contract: spend that cannot be priced never shows as a priced $0: the dashboards' judge table says
"unpriced" (or the priced part "+ unpriced") wherever an answered judge call had no price, and a fully priced
spend shows in dollars."""

import datetime as dt
from pathlib import Path

import pyarrow as pa

from eval_pipeline.lib import dashboards, pricing, warehouse

DAY = dt.date(2026, 11, 20)


def test_spend_label_says_unpriced_instead_of_zero() -> None:
    assert pricing.spend_label(0.0, 3) == "unpriced"
    assert pricing.spend_label(0.0123, 1) == "$0.0123 + unpriced"
    assert pricing.spend_label(0.0123, 0) == "$0.0123"
    assert pricing.spend_label(None) == "$0.0000"  # nothing was spent: code judges, cached verdicts


def test_dashboards_judge_table_shows_unpriced_judge_spend(tmp_path: Path) -> None:
    records = [{"trace_id": f"t{i}", "trace_date": DAY, "stratum": "a | ok", "weight": 1.0,
                "inclusion_probability": 1.0} for i in range(3)]
    # planted: relevance's calls were answered (tokens counted) by a model without a price
    scores = [{"trace_id": f"t{i}", "trace_date": DAY, "judge": judge, "verdict": "pass", "input_tokens": tokens,
               "cost_usd": cost} for i in range(3)
              for judge, tokens, cost in (("no_error", None, 0.0), ("relevance", 120, None))]
    with warehouse.connect(tmp_path / "wh.duckdb") as con:
        for table, rows in (("eval_dataset", records), ("judge_scores", scores)):
            con.register("rows", pa.Table.from_pylist(rows))
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows")  # noqa: S608 - fixed names
            con.unregister("rows")
        tables = dashboards.rebuild_day(con, DAY)
    lines = {line.split(" | ")[0].lstrip("| "): line for line in tables.judges_md.splitlines()[2:]}
    assert lines["relevance"].rstrip(" |").endswith("unpriced") and "$0.0000" not in lines["relevance"]
    assert lines["no_error"].rstrip(" |").endswith("$0.0000")
    assert tables.judge_unpriced_calls == 3
