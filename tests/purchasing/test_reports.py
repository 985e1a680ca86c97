"""The reports against a known data set (local months, reasons, items, costs, CSV and PDF in EN/FR)
and the dashboard's numbers, money included."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.alerts import sweep
from server.alerts.rules import LOW_STOCK, ORDER_OVERDUE
from server.clock import utcnow
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role
from server.purchasing import dashboard, service
from server.purchasing.schemas import DraftLineIn, DraftsIn, ReceiveLineIn, SupplierIn
from server.reprocessing.tables import Load
from server.stock import catalog, ledger
from server.stock.rules import ItemKind, WasteReason
from server.stock.schemas import ItemUpdate, UseIn, WasteIn
from tests.factories import Client, login, make_location, make_site, make_user
from tests.stock.factories import make_item, receive


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _pdf_text(pdf: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        text = "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()
    return text.replace("\u00a0", " ").replace("\r", "")


async def _known_clinic() -> dict[str, int]:
    """The known data set: flu at $18.50 a unit in the catalog, gloves with no cost, Tdap listed at
    $40.00 but bought on an order at $42.00 a unit (the lot is worth what was paid)."""
    site = await make_site()  # America/Toronto
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    flu = await make_item(site, "Influenza vaccine")
    gloves = await make_item(site, "Nitrile gloves", kind=ItemKind.SUPPLY)
    tdap = await make_item(site, "Tdap vaccine")
    await catalog.update_item(SYSTEM, site, flu, ItemUpdate(unit_cost=18.5), now=utcnow())
    await catalog.update_item(SYSTEM, site, tdap, ItemUpdate(unit_cost=40), now=utcnow())
    flu_lot = (await receive(site, flu, fridge, 50, lot="F1")).lot.id
    old_lot = (await receive(site, flu, fridge, 3, lot="OLD", expiry=date(2026, 1, 31))).lot.id
    glove_lot = (await receive(site, gloves, fridge, 100, lot="G1")).lot.id

    supplier = await service.create_supplier(SYSTEM, site, SupplierIn(name="Vax Co"), now=utcnow())
    ordered_at = datetime(2026, 11, 2, 15, tzinfo=UTC)
    (order,) = (
        await service.create_drafts(
            SYSTEM,
            site,
            DraftsIn(lines=[DraftLineIn(item_id=tdap, packs=10, supplier_id=supplier.id, unit_price=42)]),
            now=ordered_at,
        )
    ).orders
    assert order.lines[0].unit_price == 42 and order.value == 420
    await service.send_order(SYSTEM, site, order.id, now=ordered_at)
    got = await service.receive_line(
        SYSTEM,
        site,
        order.id,
        order.lines[0].id,
        ReceiveLineIn(location_id=fridge, quantity=10, lot_number="TD1", expiry=date(2028, 5, 31)),
        now=ordered_at,
    )
    assert got.receipt.unit_cost == 42
    tdap_lot = got.receipt.lot_id

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
    await waste(old_lot, 1, WasteReason.EXPIRED, datetime(2026, 11, 5, 12, tzinfo=UTC))
    await waste(tdap_lot, 2, WasteReason.BROKEN, datetime(2026, 11, 12, 12, tzinfo=UTC))
    await waste(glove_lot, 10, WasteReason.OTHER, datetime(2026, 11, 12, 12, tzinfo=UTC))
    await waste(glove_lot, 7, WasteReason.OTHER, datetime(2026, 8, 1, 12, tzinfo=UTC))  # before the period
    await use(flu_lot, 5, datetime(2026, 10, 20, 12, tzinfo=UTC))
    await use(flu_lot, 6, datetime(2026, 11, 20, 12, tzinfo=UTC))
    await use(glove_lot, 20, datetime(2026, 11, 21, 12, tzinfo=UTC))
    await make_user("insp", site_id=site, role=Role.INSPECTOR)
    return {"site": site}


PERIOD = {"from_date": "2026-09-01", "to_date": "2026-11-30"}


def _row(*values: str) -> dict[str, str]:
    return dict(
        zip(
            ["month", "reason", "item", "units", "records", "value_cad", "unpriced_units"],
            values,
            strict=True,
        )
    )


async def test_wastage_and_usage_by_local_month_with_cost(client: Client) -> None:
    site = (await _known_clinic())["site"]
    insp = await login(client, "insp")
    resp = await insp.get(f"/api/sites/{site}/reorder/reports/wastage.csv", params=PERIOD)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    assert _rows(resp.text) == [
        _row("2026-10", "broken", "Influenza vaccine", "5", "2", "92.50", "0"),
        _row("2026-11", "broken", "Tdap vaccine", "2", "1", "84.00", "0"),  # at the order's $42, not $40
        _row("2026-11", "cold_chain", "Influenza vaccine", "4", "1", "74.00", "0"),
        _row("2026-11", "expired", "Influenza vaccine", "1", "1", "18.50", "0"),
        _row("2026-11", "other", "Nitrile gloves", "10", "1", "", "10"),  # no cost: unknown, not $0
    ]
    usage = await insp.get(f"/api/sites/{site}/reorder/reports/usage.csv", params=PERIOD)
    assert _rows(usage.text) == [
        {
            "month": "2026-10",
            "item": "Influenza vaccine",
            "units": "5",
            "value_cad": "92.50",
            "unpriced_units": "0",
        },
        {
            "month": "2026-11",
            "item": "Influenza vaccine",
            "units": "6",
            "value_cad": "111.00",
            "unpriced_units": "0",
        },
        {
            "month": "2026-11",
            "item": "Nitrile gloves",
            "units": "20",
            "value_cad": "",
            "unpriced_units": "20",
        },
    ]
    backwards = await insp.get(
        f"/api/sites/{site}/reorder/reports/usage.csv",
        params={"from_date": "2026-11-30", "to_date": "2026-11-01"},
    )
    assert backwards.status_code == 400 and backwards.json()["code"] == "bad_period"
    unknown = await insp.get(f"/api/sites/{site}/reorder/reports/payroll.csv")
    assert unknown.status_code == 404 and unknown.json()["code"] == "report_not_found"
    assert (await insp.get(f"/api/sites/{site}/reorder/reports/usage.xlsx")).status_code == 404


async def test_expiry_loss_and_stock_valuation(client: Client) -> None:
    site = (await _known_clinic())["site"]
    insp = await login(client, "insp")
    month = utcnow().astimezone(ZoneInfo("America/Toronto")).strftime("%Y-%m")
    loss = await insp.get(f"/api/sites/{site}/reorder/reports/expiry_loss.csv", params=PERIOD)
    assert loss.status_code == 200, loss.text
    head = ["where", "month", "item", "lot", "expiry", "units", "value_cad", "unpriced_units"]
    assert _rows(loss.text) == [
        dict(zip(head, r, strict=True))
        for r in (
            ("still_on_hand", month, "Influenza vaccine", "OLD", "2026-01-31", "2", "37.00", "0"),
            ("wasted", "2026-11", "Influenza vaccine", "OLD", "2026-01-31", "1", "18.50", "0"),
        )
    ]
    value = await insp.get(f"/api/sites/{site}/reorder/reports/valuation.csv")
    head = ["item", "kind", "lots", "units", "value_cad", "unpriced_units"]
    # flu: 50 - 9 wasted - 11 used = 30 on F1, 2 on OLD; gloves 100 - 17 - 20; Tdap 10 - 2 at $42
    assert _rows(value.text) == [
        dict(zip(head, r, strict=True))
        for r in (
            ("Influenza vaccine", "vaccine", "2", "32", "592.00", "0"),
            ("Nitrile gloves", "supply", "1", "63", "", "63"),
            ("Tdap vaccine", "vaccine", "1", "8", "336.00", "0"),
        )
    ]


async def test_report_pdfs_in_english_and_french(client: Client) -> None:
    site = (await _known_clinic())["site"]
    insp = await login(client, "insp")
    resp = await insp.get(f"/api/sites/{site}/reorder/reports/valuation.pdf")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    assert 'filename="valuation-site-' in resp.headers["content-disposition"]
    text = _pdf_text(resp.content)
    assert "Stock valuation · Test Clinic" in text
    for expected in ("Influenza vaccine", "$592.00", "Nitrile gloves", "unknown", "$336.00", "$928.00 *"):
        assert expected in text, expected
    assert "63 units are not counted in the value" in text
    assert "1 of 3 catalog items have no unit cost" in text

    fr = await insp.get(f"/api/sites/{site}/reorder/reports/wastage.pdf", params={**PERIOD, "lang": "fr"})
    text = _pdf_text(fr.content)
    assert "Pertes par mois, motif et article" in text
    assert "Période : du 2026-09-01 au 2026-11-30" in text
    for expected in ("Brisé", "Chaîne du froid", "Expiré", "92,50 $", "84,00 $", "inconnu", "269,00 $ *"):
        assert expected in text, expected

    usage = _pdf_text((await insp.get(f"/api/sites/{site}/reorder/reports/usage.pdf", params=PERIOD)).content)
    assert "Usage by month and item" in usage and "$111.00" in usage and "$203.50 *" in usage
    loss = _pdf_text(
        (await insp.get(f"/api/sites/{site}/reorder/reports/expiry_loss.pdf", params=PERIOD)).content
    )
    assert "Still on the shelf" in loss and "$55.50" in loss
    empty = await insp.get(
        f"/api/sites/{site}/reorder/reports/usage.pdf",
        params={"from_date": "2020-01-01", "to_date": "2020-01-31"},
    )
    assert "Nothing in this period." in _pdf_text(empty.content)


async def test_dashboard_numbers(client: Client) -> None:

    site = await make_site()
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    flu = await make_item(site, "Influenza vaccine")
    await catalog.update_item(
        SYSTEM,
        site,
        flu,
        ItemUpdate(par_level=30, reorder_point=20, default_supplier="PHU", unit_cost=10),
        now=utcnow(),
    )
    gloves = await make_item(site, "Nitrile gloves", kind=ItemKind.SUPPLY)  # no cost in the catalog
    glove_lot = (await receive(site, gloves, fridge, 10, lot="G1")).lot.id
    await ledger.waste(
        SYSTEM,
        site,
        WasteIn(lot_id=glove_lot, location_id=fridge, quantity=2, reason=WasteReason.OTHER),
        now=utcnow(),
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
        {"days": 30, "lots": 1, "units": 2, "value": 20.0, "unpriced_units": 0},
        {"days": 60, "lots": 2, "units": 6, "value": 60.0, "unpriced_units": 0},
        {"days": 90, "lots": 3, "units": 8, "value": 80.0, "unpriced_units": 0},
    ]
    assert d["wastage_by_reason"] == [{"key": "broken", "count": 1}, {"key": "other", "count": 2}]
    assert d["wastage_cost"] == [
        {"reason": "broken", "units": 1, "value": 10.0, "unpriced_units": 0},
        {"reason": "other", "units": 2, "value": None, "unpriced_units": 2},  # unknown, not $0
    ]
    assert d["wastage_total"] == {"reason": "all", "units": 3, "value": 10.0, "unpriced_units": 2}
    assert (d["currency"], d["items_without_cost"], d["active_items"]) == ("CAD", 1, 2)
    assert d["open_orders"] == [{"key": "draft", "count": 1}]
    assert d["overdue_tasks"] == []
    assert d["cleaning"] == {"done": 0, "total": 0, "late": 0}
    assert d["reprocessing"] == {"done": 0, "total": 0, "late": 0}
    assert d["sterilization_gaps_today"] == 0

    # An order sent 15 days ago and not in is overdue work once the alert sweep has seen it.
    order = drafts.json()["orders"][0]
    await service.send_order(SYSTEM, site, order["id"], now=utcnow() - timedelta(days=15))
    await sweep.sweep(utcnow(), [ORDER_OVERDUE])
    d = (await mgr.get(f"/api/sites/{site}/reorder/dashboard")).json()
    assert d["overdue_tasks"] == [{"key": "order_overdue", "count": 1}]
    assert d["wastage_month"] == utcnow().astimezone(ZoneInfo("America/Toronto")).strftime("%Y-%m")


async def test_dashboard_counts_overdue_cleaning_and_compliance(client: Client) -> None:
    site = await make_site()  # America/Toronto
    await make_location(site, "Exam Room 1")
    await make_user("mgr", site_id=site, role=Role.MANAGER)
    mgr = await login(client, "mgr")
    made = await mgr.post(
        f"/api/sites/{site}/cleaning/plans/defaults",
        {"product": "Test wipes", "din": "11111111", "contact_seconds": 60},
    )
    assert made.status_code == 201, made.text  # between patients, daily (by 18:00), terminal
    tz = ZoneInfo("America/Toronto")
    tomorrow = (utcnow().astimezone(tz) + timedelta(days=1)).date()
    late_evening = datetime.combine(tomorrow, time(22, 0), tzinfo=tz)  # the daily clean is late
    d = await dashboard.dashboard(site, now=late_evening)
    assert d.cleaning is not None and (d.cleaning.done, d.cleaning.total, d.cleaning.late) == (2, 3, 1)
    assert [(o.key, o.count) for o in d.overdue_tasks] == [("cleaning", 1)]
    morning = datetime.combine(tomorrow, time(9, 0), tzinfo=tz)  # due today, not late yet
    d = await dashboard.dashboard(site, now=morning)
    assert d.cleaning is not None and d.cleaning.late == 0 and d.overdue_tasks == []


async def test_dashboard_reprocessing_compliance_counts_released_loads(client: Client) -> None:
    site = await make_site()
    await make_user("mgr", site_id=site, role=Role.MANAGER)
    mgr = await login(client, "mgr")
    base = f"/api/sites/{site}/reprocessing"
    st = await mgr.post(
        f"{base}/sterilizers",
        {
            "name": "Statim A",
            "model": "Statim 5000",
            "serial": "SN-1",
            "kind": "gravity",
            "cycle_types": ["wrapped"],
        },
    )
    assert st.status_code == 201, st.text

    async def load_of(name: str) -> dict[str, Any]:
        device = await mgr.post(
            f"{base}/devices", {"name": name, "kind": "set", "spaulding": "critical", "mifu": "MIFU-1"}
        )
        assert device.status_code == 201, device.text
        code = device.json()["label_code"]
        for step, extra in (
            ("point_of_use", {}),
            ("clean", {"method": "ultrasonic"}),
            ("inspect", {"result": "pass"}),
            ("package", {"initials": "ab"}),
        ):
            done = await mgr.post(f"{base}/steps", {"code": code, "step": step, **extra})
            assert done.status_code == 201, done.text
        body = {"sterilizer_id": st.json()["id"], "cycle_type": "wrapped", "initials": "AB"}
        made = await mgr.post(f"{base}/loads", {**body, "packs": [done.json()["pack"]["label_code"]]})
        assert made.status_code == 201, made.text
        return dict(made.json())

    released = await load_of("Suture set")
    results: dict[str, Any] = {"physical_met": True, "external_ci": "pass", "internal_ci": "pass"}
    if released["bi_required"]:
        results["bi_lot"] = "BI-7"
    assert (await mgr.post(f"{base}/loads/{released['id']}/results", results)).status_code == 201
    ok = await mgr.post(f"{base}/loads/{released['id']}/release")
    assert ok.status_code == 201 and ok.json()["status"] == "released", ok.text
    await load_of("Forceps")  # left open
    # Both ran yesterday (today's loads are still in progress, so they are not counted yet).
    yesterday = utcnow().astimezone(ZoneInfo("America/Toronto")).date() - timedelta(days=1)
    await Load.update({Load.day: yesterday}).where(Load.site == site)
    d = (await mgr.get(f"/api/sites/{site}/reorder/dashboard")).json()
    assert d["reprocessing"] == {"done": 1, "total": 2, "late": 1}
