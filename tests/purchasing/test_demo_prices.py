"""The demo clinic's catalog has unit costs, so the manager's money figures are not all "unknown"."""

from __future__ import annotations

from server.clock import utcnow
from server.purchasing import reports
from server.seed import seed


async def test_the_demo_stock_is_valued_in_dollars() -> None:
    [clinic] = await seed("demo", now=utcnow())
    report = await reports.build("valuation", clinic.site_id, None, None, now=utcnow())
    assert report.items_without_cost == 0 and report.active_items > 0
    assert report.rows and report.total.unpriced_units == 0
    assert report.total.value > 0
