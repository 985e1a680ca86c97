"""The manager's dashboard numbers: low stock, expiring stock, this month's wastage, open orders and
open alerts, each one query."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from server import sql
from server.core.service import site_zone
from server.purchasing import service
from server.purchasing.schemas import CountRead, DashboardRead, ExpiringRead, LowStockRead

EXPIRY_WINDOWS = (30, 60, 90)

_EXPIRING = """
SELECT l.expiry, SUM(sl.on_hand) AS units
FROM stock_level sl JOIN lot l ON l.id = sl.lot
WHERE sl.site = {} AND sl.on_hand > 0 AND l.status = 'available' AND l.expiry >= {} AND l.expiry <= {}
GROUP BY l.id, l.expiry
"""
_WASTED = """
SELECT m.reason, SUM(-m.quantity) AS units
FROM movement m WHERE m.site = {} AND m.kind = 'waste' AND m.at >= {}
GROUP BY m.reason ORDER BY m.reason
"""
_ORDERS = """
SELECT status, COUNT(*) AS n FROM purchase_order
WHERE site = {} AND status IN ({}, {}, {}) GROUP BY status ORDER BY status
"""
_ALERTS = """
SELECT rule, COUNT(*) AS n FROM alert WHERE site = {} AND resolved_at IS NULL GROUP BY rule ORDER BY rule
"""


async def dashboard(site_id: int, *, now: datetime) -> DashboardRead:
    tz = await site_zone(site_id)
    today = now.astimezone(tz).date()
    month_start = datetime.combine(today.replace(day=1), time(0), tzinfo=tz)
    groups = await service.suggestions(site_id, now=now)
    low = [
        LowStockRead(
            item_id=ln.item_id,
            item_name=ln.item_name,
            usable_on_hand=ln.usable_on_hand,
            on_order=ln.on_order,
            par_level=ln.par_level,
        )
        for g in groups
        for ln in g.lines
    ]
    async with sql.one_connection():
        lots = await sql.fetch(_EXPIRING, site_id, today, today + timedelta(days=max(EXPIRY_WINDOWS)))
        wasted = await sql.fetch(_WASTED, site_id, month_start)
        orders = await sql.fetch(_ORDERS, site_id, *service.OPEN)
        alerts = await sql.fetch(_ALERTS, site_id)
    expiring = []
    for days in EXPIRY_WINDOWS:
        within = [r for r in lots if r["expiry"] <= today + timedelta(days=days)]
        expiring.append(ExpiringRead(days=days, lots=len(within), units=sum(int(r["units"]) for r in within)))
    return DashboardRead(
        low_stock=sorted(low, key=lambda x: x.item_name.casefold()),
        expiring=expiring,
        wastage_month=today.strftime("%Y-%m"),
        wastage_by_reason=[CountRead(key=str(r["reason"]), count=int(r["units"])) for r in wasted],
        open_orders=[CountRead(key=str(r["status"]), count=int(r["n"])) for r in orders],
        open_alerts=[CountRead(key=str(r["rule"]), count=int(r["n"])) for r in alerts],
    )
