"""The generated data sets: reproducible, the ledger adds up, the audit chain verifies, the sweep has work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.alerts.sweep import sweep
from server.alerts.tables import Alert
from server.core import audit
from server.generate import checks
from server.generate.load import GenerateError, generate
from server.generate.plan import SCALES, caps
from server.generate.rows import COLUMNS, site_rows

BASE = datetime(2026, 11, 29, tzinfo=UTC)


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    first = checks.rows_digest("tiny", 7, BASE)
    assert first == checks.rows_digest("tiny", 7, BASE)
    other = checks.rows_digest("tiny", 8, BASE)
    assert other != first
    assert other["movement"][0] == first["movement"][0]  # same sizes, other data


def test_rows_stay_inside_their_site_id_blocks() -> None:
    scale = SCALES["tiny"]
    limits = caps(scale)
    for si in range(scale.sites):
        for table, rows in site_rows(scale, 1, si, BASE, "-"):
            ids = [r[0] for r in rows]
            assert len(set(ids)) == len(ids), table
            if table != "site":
                assert all(si * limits[table] < i <= (si + 1) * limits[table] for i in ids), table
            assert all(len(r) == len(COLUMNS[table]) for r in rows), table


async def test_generate_loads_a_consistent_audited_data_set(pool: None) -> None:
    totals = await generate("tiny", 7, BASE, jobs=2, say=lambda _: None)
    expected = checks.rows_digest("tiny", 7, BASE)
    assert {t: n for t, n in totals.rows.items() if t != "audit_head"} == {
        t: d[0] for t, d in expected.items()
    }
    assert await checks.db_digest() == expected
    assert await checks.level_mismatches() == 0
    assert await checks.negative_balances() == 0
    statuses = await audit.verify_all()
    assert [s.chain for s in statuses] == ["site:1", "site:2"]
    assert all(s.ok for s in statuses), statuses
    assert [s.events for s in statuses] == [len(COLUMNS) - 1] * 2  # one event per generated table

    with pytest.raises(GenerateError, match="already has sites"):
        await generate("tiny", 7, BASE, say=lambda _: None)
    assert await checks.db_digest() == expected  # the refusal wrote nothing

    # The data set holds work for the alert sweep: stock, expiry, cleaning and reprocessing rules.
    await sweep(BASE + timedelta(hours=1))
    rules = {r["rule"] for r in await Alert.select(Alert.rule).where(Alert.resolved_at.is_null())}
    assert {"cleaning_overdue", "device_left_dirty"} <= rules, rules
    assert rules & {"low_stock", "out_of_stock"}, rules
