"""The manager's dashboard numbers: low stock, expiring stock and its value, this month's wastage by
reason and cost, open orders, open alerts, overdue tasks, and cleaning and reprocessing compliance.

Cleaning is read through its service (the plans' due states); the rest is plain read-only SQL."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from server import sql
from server.cleaning import service as cleaning
from server.cleaning.rules import DueState
from server.core.service import site_zone
from server.purchasing import service, valuation
from server.purchasing.rules import Valued
from server.purchasing.schemas import (
    ComplianceRead,
    CountRead,
    DashboardRead,
    ExpiringRead,
    LowStockRead,
    WasteCostRead,
)
from server.reprocessing import review

EXPIRY_WINDOWS = (30, 60, 90)

_EXPIRING = """
SELECT l.id, l.item, l.expiry, SUM(sl.on_hand) AS units
FROM stock_level sl JOIN lot l ON l.id = sl.lot
WHERE sl.site = {} AND sl.on_hand > 0 AND l.status = 'available' AND l.expiry >= {} AND l.expiry <= {}
GROUP BY l.id, l.item, l.expiry
"""
_WASTED = """
SELECT m.reason, m.lot, l.item, SUM(-m.quantity) AS units
FROM movement m JOIN lot l ON l.id = m.lot WHERE m.site = {} AND m.kind = 'waste' AND m.at >= {}
GROUP BY m.reason, m.lot, l.item
"""
# Overdue work other than cleaning, as the alert sweeps last found it (cleaning is computed now).
OVERDUE_RULES = (
    "count_overdue",
    "reading_missing",
    "device_left_dirty",
    "hld_solution_expired",
    "order_overdue",
)
_LOADS = """
SELECT status, COUNT(*) AS n FROM rp_load
WHERE site = {} AND purpose = 'load' AND day >= {} AND day < {} GROUP BY status
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
        costs = await valuation.costs(site_id)
        loads = await sql.fetch(_LOADS, site_id, today - timedelta(days=30), today)
    expiring = []
    for days in EXPIRY_WINDOWS:
        within = [r for r in lots if _day(r["expiry"]) <= today + timedelta(days=days)]
        v = Valued()
        for r in within:
            v.add(int(r["units"]), costs.unit_cost(int(r["id"]), int(r["item"])))
        expiring.append(
            ExpiringRead(
                days=days,
                lots=len(within),
                units=sum(int(r["units"]) for r in within),
                value=_value(v),
                unpriced_units=v.unpriced_units,
            )
        )
    by_reason: dict[str, tuple[int, Valued]] = {}
    total = Valued()
    for r in wasted:
        reason = str(r["reason"] or "other")
        units, v = by_reason.setdefault(reason, (0, Valued()))
        cost = costs.unit_cost(int(r["lot"]), int(r["item"]))
        v.add(int(r["units"]), cost)
        total.add(int(r["units"]), cost)
        by_reason[reason] = (units + int(r["units"]), v)
    wastage = [
        WasteCostRead(reason=k, units=u, value=_value(v), unpriced_units=v.unpriced_units)
        for k, (u, v) in sorted(by_reason.items())
    ]
    plans = await cleaning.statuses(site_id, now=now)
    late_cleaning = sum(1 for p in plans if p.state is DueState.OVERDUE)
    open_by_rule = {str(r["rule"]): int(r["n"]) for r in alerts}
    overdue = [CountRead(key="cleaning", count=late_cleaning)] if late_cleaning else []
    overdue += [CountRead(key=k, count=open_by_rule[k]) for k in OVERDUE_RULES if open_by_rule.get(k)]
    load_counts = {str(r["status"]): int(r["n"]) for r in loads}
    released = load_counts.get("released", 0)
    gaps = await review.missing(site_id, today)
    return DashboardRead(
        low_stock=sorted(low, key=lambda x: x.item_name.casefold()),
        expiring=expiring,
        wastage_month=today.strftime("%Y-%m"),
        wastage_by_reason=[CountRead(key=w.reason, count=w.units) for w in wastage],
        open_orders=[CountRead(key=str(r["status"]), count=int(r["n"])) for r in orders],
        open_alerts=[CountRead(key=str(r["rule"]), count=int(r["n"])) for r in alerts],
        wastage_cost=wastage,
        wastage_total=WasteCostRead(
            reason="all",
            units=sum(w.units for w in wastage),
            value=_value(total),
            unpriced_units=total.unpriced_units,
        ),
        items_without_cost=costs.items_without_cost,
        active_items=costs.active_items,
        overdue_tasks=overdue,
        cleaning=ComplianceRead(done=len(plans) - late_cleaning, total=len(plans), late=late_cleaning),
        reprocessing=ComplianceRead(
            done=released,
            total=sum(n for k, n in load_counts.items() if k != "failed"),
            late=load_counts.get("open", 0) + load_counts.get("held", 0),
        ),
        sterilization_gaps_today=len(gaps.items),
    )


def _value(v: Valued) -> float | None:
    """None (unknown) when nothing in it has a cost; else the priced part, to the cent."""
    if v.unpriced_units and v.value == 0:
        return None
    return float(v.cents)


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
