"""Contract: a day of masked_traces is read with what the row policy needs (opt-out span attributes, tenant),
dropped by reason, masked and written so that a re-run replaces the partition; the day's scan stays quiet on
masked rows and reports a survivor by type and shape, never by value."""

import datetime as dt
from pathlib import Path

from eval_pipeline.lib import masking
from eval_pipeline.lib.config import Privacy
from eval_pipeline.lib.warehouse import connect

DAY = dt.date(2026, 11, 20)
KEY = b"k1"


def _raw_day(con) -> None:  # noqa: ANN001
    con.execute("""
        INSERT INTO raw_traces BY NAME
        SELECT * FROM (VALUES
            ('t1', DATE '2026-11-20', 'web', 'mail bob@example.com', 'ok', 'u1', 's1'),
            ('t2', DATE '2026-11-20', 'web', 'opted out ann@example.com', 'ok', 'u2', 's2'),  -- opt-out span
            ('t3', DATE '2026-11-20', 'admin', 'internal', 'ok', 'u3', 's3'),  -- a dropped service
            ('t4', DATE '2026-11-20', 'web', 'tenant', 'ok', 'u4', 's4'),  -- a dropped tenant
            ('t5', DATE '2026-11-21', 'web', 'next day', 'ok', 'u5', 's5')
        ) AS v(trace_id, trace_date, service_name, request, response, user_id, session_id)""")
    con.execute("""
        INSERT INTO spans BY NAME
        SELECT * FROM (VALUES
            ('t2', 'a', DATE '2026-11-20', '{"eval.opt_out": true}'::JSON, '[]'::JSON, '{}'::JSON),
            ('t4', 'b', DATE '2026-11-20', '{}'::JSON, '[]'::JSON, '{"tenant.id": "acme-health"}'::JSON)
        ) AS v(trace_id, span_id, trace_date, attributes, events, resource)""")


def test_mask_day_applies_the_row_policy_and_write_day_replaces_the_partition(tmp_path: Path) -> None:
    privacy = Privacy(drop_services=("admin",), drop_tenants=("acme-health",))
    with connect(tmp_path / "w.duckdb") as con:
        _raw_day(con)
        result = masking.mask_day(con, DAY, privacy, KEY)
        for _ in range(2):  # a re-run replaces the day
            masking.write_day(con, DAY, result.masked)
        rows = con.execute("SELECT trace_id, request, user_id, pii_found FROM masked_traces").fetchall()
    assert result.traces_read == 4
    assert result.rows_dropped == {"opt_out": 1, "service": 1, "tenant": 1}
    assert result.found == {"EMAIL": 1} and result.traces_with_pii == 1
    assert result.text_bytes == len("mail bob@example.com") + len("ok")
    assert rows == [("t1", "mail " + masking.pseudonym("EMAIL", "bob@example.com", KEY),
                     masking.pseudonym("USER", "u1", KEY), {"EMAIL": 1})]


def test_scan_day_is_quiet_on_masked_rows_and_reports_a_survivor_by_shape(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as con:
        _raw_day(con)
        masking.write_day(con, DAY, masking.mask_day(con, DAY, Privacy(), KEY).masked)  # t2 opted out
        clean = masking.scan_day(con, DAY)
        # a masker regression: the request of t1 written raw
        con.execute("UPDATE masked_traces SET request = 'mail bob@example.com' WHERE trace_id = 't1'")
        dirty = masking.scan_day(con, DAY)
    assert clean.rows_scanned == 3 and clean.found.is_empty() and clean.by_kind == {} and clean.samples == []
    assert dirty.by_kind == {"EMAIL": 1} and dirty.traces_affected == 1
    assert dirty.samples == [{"trace_id": "t1", "column": "request", "kind": "EMAIL", "shape": "xxx@xxxxxxx.xxx"}]
