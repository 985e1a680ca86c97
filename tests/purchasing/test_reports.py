"""Wastage and usage reports against a known data set: local months, reasons, items, totals."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from server.alerts import sweep
from server.alerts.rules import LOW_STOCK
from server.clock import utcnow
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role
from server.stock import catalog, ledger
from server.stock.rules import ItemKind, WasteReason
from server.stock.schemas import ItemUpdate, UseIn, WasteIn
from tests.factories import Client, login, make_location, make_site, make_user
from tests.stock.factories import make_item, receive


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_wastage_and_usage_by_local_month(client: Client) -> None:
    site = await make_site()  # America/Toronto
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    flu = await make_item(site, "Influenza vaccine")
    gloves = await make_item(site, "Nitrile gloves", kind=ItemKind.SUPPLY)
    flu_lot = (await receive(site, flu, fridge, 50, lot="F1")).lot.id
    glove_lot = (await receive(site, gloves, fridge, 100, lot="G1")).lot.id

    async def waste(lot: int, n: int, reason: WasteReason, at: datetime) -> None:
        await ledger.waste(
            SYSTEM, site, WasteIn(lot_id=lot, location_id=fridge, quantity=n, reason=reason), now=at
        )

    async def use(lot: int, n: int, at: datetime) -> None:
        await ledger.use(
            SYSTEM, site, UseIn(lot_id=lot, location_id=fridge, quantity=n), now=at, check_usable=False
        )

    # 03:30 UTC on 1 November is still 31 October in Toronto.
    await waste(flu_lot, 2, WasteReason.BROKEN, datetime(2026, 11, 1, 3, 30, tzinfo=UTC))
    await waste(flu_lot, 3, WasteReason.BROKEN, datetime(2026, 10, 15, 12, tzinfo=UTC))
    await waste(flu_lot, 4, WasteReason.COLD_CHAIN, datetime(2026, 11, 10, 12, tzinfo=UTC))
    await waste(glove_lot, 10, WasteReason.OTHER, datetime(2026, 11, 12, 12, tzinfo=UTC))
    await waste(glove_lot, 7, WasteReason.OTHER, datetime(2026, 8, 1, 12, tzinfo=UTC))  # before the period
    await use(flu_lot, 5, datetime(2026, 10, 20, 12, tzinfo=UTC))
    await use(flu_lot, 6, datetime(2026, 11, 20, 12, tzinfo=UTC))
    await use(glove_lot, 20, datetime(2026, 11, 21, 12, tzinfo=UTC))

    await make_user("insp", site_id=site, role=Role.INSPECTOR)
    insp = await login(client, "insp")
    period = {"from_date": "2026-09-01", "to_date": "2026-11-30"}
    resp = await insp.get(f"/api/sites/{site}/reorder/reports/wastage.csv", params=period)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    assert _rows(resp.text) == [
        {"month": "2026-10", "reason": "broken", "item": "Influenza vaccine", "units": "5", "records": "2"},
        {
            "month": "2026-11",
            "reason": "cold_chain",
            "item": "Influenza vaccine",
            "units": "4",
            "records": "1",
        },
        {"month": "2026-11", "reason": "other", "item": "Nitrile gloves", "units": "10", "records": "1"},
    ]
    usage = await insp.get(f"/api/sites/{site}/reorder/reports/usage.csv", params=period)
    assert _rows(usage.text) == [
        {"month": "2026-10", "item": "Influenza vaccine", "units": "5"},
        {"month": "2026-11", "item": "Influenza vaccine", "units": "6"},
        {"month": "2026-11", "item": "Nitrile gloves", "units": "20"},
    ]
    backwards = await insp.get(
        f"/api/sites/{site}/reorder/reports/usage.csv",
        params={"from_date": "2026-11-30", "to_date": "2026-11-01"},
    )
    assert backwards.status_code == 400 and backwards.json()["code"] == "bad_period"


async def test_dashboard_numbers(client: Client) -> None:

    site = await make_site()
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    flu = await make_item(site, "Influenza vaccine")
    await catalog.update_item(
        SYSTEM, site, flu, ItemUpdate(par_level=30, reorder_point=20, default_supplier="PHU"), now=utcnow()
    )
    today = utcnow().date()

    soon = (await receive(site, flu, fridge, 3, lot="SOON", expiry=today + timedelta(days=20))).lot.id
    await receive(site, flu, fridge, 4, lot="MID", expiry=today + timedelta(days=50))
    await receive(site, flu, fridge, 2, lot="LATE", expiry=today + timedelta(days=80))
    await receive(site, flu, fridge, 9, lot="FAR", expiry=today + timedelta(days=400))  # 18 on hand in all
    await ledger.waste(
        SYSTEM,
        site,
        WasteIn(lot_id=soon, location_id=fridge, quantity=1, reason=WasteReason.BROKEN),
        now=utcnow(),
    )
    await sweep.sweep(utcnow(), [LOW_STOCK])
    await make_user("mgr", site_id=site, role=Role.MANAGER)
    mgr = await login(client, "mgr")
    drafts = await mgr.post(
        f"/api/sites/{site}/purchase-orders/drafts", {"lines": [{"item_id": flu, "packs": 1}]}
    )
    assert drafts.status_code == 201, drafts.text

    resp = await mgr.get(f"/api/sites/{site}/reorder/dashboard")
    assert resp.status_code == 200, resp.text
    d = resp.json()
    # 17 usable + 1 on order = 18, still at or below the reorder point of 20
    assert d["low_stock"] == [
        {
            "item_id": flu,
            "item_name": "Influenza vaccine",
            "usable_on_hand": 17,
            "on_order": 1,
            "par_level": 30,
        }
    ]
    assert d["open_alerts"] == [{"key": "low_stock", "count": 1}]
    assert d["expiring"] == [
        {"days": 30, "lots": 1, "units": 2},
        {"days": 60, "lots": 2, "units": 6},
        {"days": 90, "lots": 3, "units": 8},
    ]
    assert d["wastage_by_reason"] == [{"key": "broken", "count": 1}]
    assert d["open_orders"] == [{"key": "draft", "count": 1}]
    assert d["wastage_month"] == utcnow().astimezone(ZoneInfo("America/Toronto")).strftime("%Y-%m")
