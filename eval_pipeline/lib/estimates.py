"""Judge pass rates for the whole day's traffic: the figures of ``daily_judge_results`` and
``daily_judge_strata``, and the rows the regression rule compares (``drift.pass_rate_regressions``).

Every rate is ``lib.stats.weighted_rate`` over the day's judged eval records: one record per drawn trace,
weight 1 / inclusion probability, the Poisson finite-population factor from the inclusion probabilities.
Traces are drawn one by one (sql/dataset/eval_dataset_population.sql), so a duplicate request's traces
enter with their own verdicts and need no clusters. Unknown verdicts are left out of every rate and never
counted as a pass. The 95 % intervals hold for this design: eval_pipeline_tests/defs/dashboards/
test_estimates_coverage.py runs the real selection SQL and this code over simulated days.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

import duckdb

from eval_pipeline.lib import stats
from eval_pipeline.lib.warehouse import insert_rows, load_sql


def _groups(rows: Iterable[dict[str, Any]], *keys: str) -> dict[tuple, list[dict[str, Any]]]:
    out: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


def _estimate(rows: list[dict[str, Any]]) -> stats.Estimate | None:
    pi = [r["inclusion_probability"] for r in rows]
    # Records written without their probability (by hand, or by an older selection) get no
    # finite-population factor: the variance is then the with-replacement one, a little conservative.
    return stats.weighted_rate([r["verdict"] for r in rows], [r["weight"] for r in rows],
                               pi=None if None in pi else pi)


def _figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Verdict counts, spend and the weighted pass rate with its interval of one judge (in one stratum)."""
    est = _estimate(rows)
    verdicts = [r["verdict"] for r in rows]
    return {
        "judged": len(rows), "passed": verdicts.count("pass"), "failed": verdicts.count("fail"),
        "unknown": verdicts.count("unknown"),
        "weighted_pass_rate": None if est is None else est.value,
        "ci_low": None if est is None else est.low, "ci_high": None if est is None else est.high,
        "n_eff": None if est is None else est.n_eff, "std_error": None if est is None else est.se,
        "spend_usd": sum(r["cost_usd"] or 0.0 for r in rows),
        # a call that was answered (tokens counted) but has no price: its spend is unknown, not zero
        "unpriced_calls": sum(1 for r in rows if r["cost_usd"] is None and r["input_tokens"] is not None),
    }


def day_figures(con: duckdb.DuckDBPyConnection, day: dt.date) -> tuple[list[dict], list[dict]]:
    """``day``'s figures per judge and per (judge, stratum)."""
    rows = con.sql(load_sql("dashboards/judge_estimate_inputs"), params={"day": day}).to_arrow_table().to_pylist()
    judges = [{"judge": j, **_figures(g)} for (j,), g in sorted(_groups(rows, "judge").items())]
    strata = [{"judge": j, "stratum": s, **_figures(g)}
              for (j, s), g in sorted(_groups(rows, "judge", "stratum").items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))]
    return judges, strata


def write_day(con: duckdb.DuckDBPyConnection, day: dt.date) -> None:
    """Insert ``day``'s rows of daily_judge_results and daily_judge_strata (the caller deleted the old ones)."""
    judges, strata = day_figures(con, day)
    insert_rows(con, "dashboards/daily_judge_results_insert", "judge_figures", judges, {"day": day})
    insert_rows(con, "dashboards/daily_judge_strata_insert", "judge_strata_figures", strata, {"day": day})


def rate_rows(con: duckdb.DuckDBPyConnection, day: dt.date) -> list[tuple]:
    """The rows ``drift.pass_rate_regressions`` compares: (judge, stratum, is_today, rate, n_eff, days) for
    ``day`` and for its trailing 7 days pooled, per judge (stratum None) and per (judge, stratum). ``n_eff``
    is the design-based effective size p (1 - p) / variance of the weighted rate."""
    rows = con.sql(load_sql("dashboards/judge_rates_baseline"), params={"day": day}).to_arrow_table().to_pylist()
    out = []
    for keys in (("judge", "is_today"), ("judge", "stratum", "is_today")):
        for key, group in _groups(rows, *keys).items():
            est = _estimate(group)
            if est is None:
                continue
            judge, stratum, is_today = key if len(key) == 3 else (key[0], None, key[1])
            if len(key) == 3 and stratum is None:
                continue
            out.append((judge, stratum, is_today, est.value, est.n_eff, len({r["trace_date"] for r in group})))
    return sorted(out, key=lambda r: (r[0], r[1] or "", r[2]))
