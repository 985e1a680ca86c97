"""Reordering: suppliers, suggestions, purchase orders through their lifecycle, receiving against a line.

Receiving goes through the stock ledger (``ledger.receive``, joined to this write's transaction) with
the order number as the movement's reference, so the ledger, exactly-once and the audit chain hold.
Lock order on PostgreSQL: the order row first, then what the ledger takes (stock levels, lots,
audit head).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from server import sql
from server.alerts.tables import Delivery
from server.core import audit
from server.core.auth import Principal
from server.db import is_sqlite, write_transaction
from server.errors import Conflict, InvalidInput, NotFound, RuleViolation
from server.purchasing import rules
from server.purchasing.rules import Discrepancy, OrderStatus
from server.purchasing.schemas import (
    CancelIn,
    CloseLineIn,
    DraftsIn,
    DraftsResult,
    LineRead,
    LineUpdate,
    OrderRead,
    ReceiptRead,
    ReceiveLineIn,
    ReceiveResult,
    SuggestionRead,
    SupplierIn,
    SupplierRead,
    SupplierSuggestions,
    SupplierUpdate,
)
from server.purchasing.tables import OrderReceipt, PurchaseOrder, PurchaseOrderLine, Supplier
from server.scans import service as scans
from server.stock import ledger
from server.stock.rules import ItemKind, units_for
from server.stock.schemas import ReceiveIn

OPEN = (OrderStatus.DRAFT.value, OrderStatus.SENT.value, OrderStatus.PARTLY_RECEIVED.value)

# --- suppliers ---------------------------------------------------------------------------------


def _supplier(row: dict[str, Any]) -> SupplierRead:
    return SupplierRead(
        id=row["id"], name=row["name"], email=row["email"], phone=row["phone"], active=bool(row["active"])
    )


async def list_suppliers(site_id: int) -> list[SupplierRead]:
    rows = await Supplier.select().where(Supplier.site == site_id).order_by(Supplier.name)
    return [_supplier(r) for r in rows]


async def _supplier_row(site_id: int, supplier_id: int) -> dict[str, Any]:
    row = await Supplier.select().where((Supplier.id == supplier_id) & (Supplier.site == site_id)).first()
    if row is None:
        raise NotFound("This supplier is not known at this site.", code="supplier_not_found")
    return dict(row)


async def _name_taken(site_id: int, name: str, *, other_than: int | None = None) -> None:
    rows = await sql.fetch("SELECT id FROM supplier WHERE site = {} AND name = {}", site_id, name)
    if any(int(r["id"]) != other_than for r in rows):
        raise Conflict(f"A supplier named {name} is already on the list.", code="supplier_exists")


async def create_supplier(
    principal: Principal, site_id: int, data: SupplierIn, *, now: datetime
) -> SupplierRead:
    name = data.name.strip()
    if not name:
        raise InvalidInput(
            "Give the supplier a name.",
            code="supplier_name",
            fields=[{"field": "name", "message": "is empty"}],
        )
    async with write_transaction():
        supplier_id = await _insert_supplier(principal, site_id, name, data.email, data.phone, now=now)
        if supplier_id is None:
            raise Conflict(f"A supplier named {name} is already on the list.", code="supplier_exists")
        return _supplier(await _supplier_row(site_id, supplier_id))


async def _insert_supplier(
    principal: Principal, site_id: int, name: str, email: str, phone: str, *, now: datetime
) -> int | None:
    """The new supplier's id, or None when the name is taken (racing inserts included: the unique
    index decides, so two drafts naming a new supplier at once add it once)."""
    rows = (
        await Supplier.insert(
            Supplier(site=site_id, name=name, email=email, phone=phone, active=True, created_at=now)
        )
        .on_conflict(target=(Supplier.site, Supplier.name), action="DO NOTHING")
        .returning(Supplier.id)
    )
    if not rows:
        return None
    supplier_id = int(rows[0]["id"])
    await audit.append(
        actor=principal.actor,
        site_id=site_id,
        action="supplier.create",
        entity="supplier",
        entity_id=supplier_id,
        payload={"name": name, "email": email, "phone": phone},
        now=now,
    )
    return supplier_id


async def update_supplier(
    principal: Principal, site_id: int, supplier_id: int, data: SupplierUpdate, *, now: datetime
) -> SupplierRead:
    async with write_transaction():
        row = await _supplier_row(site_id, supplier_id)
        changes: dict[str, Any] = {}
        if data.name is not None and data.name.strip() != row["name"]:
            name = data.name.strip()
            if not name:
                raise InvalidInput(
                    "Give the supplier a name.",
                    code="supplier_name",
                    fields=[{"field": "name", "message": "is empty"}],
                )
            await _name_taken(site_id, name, other_than=supplier_id)
            changes["name"] = name
        for field in ("email", "phone", "active"):
            value = getattr(data, field)
            if value is not None and value != row[field]:
                changes[field] = value
        if changes:
            await Supplier.update({getattr(Supplier, k): v for k, v in changes.items()}).where(
                Supplier.id == supplier_id
            )
            await audit.append(
                actor=principal.actor,
                site_id=site_id,
                action="supplier.update",
                entity="supplier",
                entity_id=supplier_id,
                payload=changes,
                now=now,
            )
        return _supplier({**row, **changes})


async def _supplier_by_name(site_id: int, name: str) -> dict[str, Any] | None:
    rows = await sql.fetch("SELECT * FROM supplier WHERE site = {}", site_id)
    wanted = name.strip().casefold()
    for row in rows:
        if str(row["name"]).strip().casefold() == wanted:
            return dict(row)
    return None


# --- suggestions -------------------------------------------------------------------------------

_ITEMS = """
SELECT id, name, kind, par_level, reorder_point, default_supplier, publicly_funded
FROM item WHERE site = {} AND active = {} AND par_level > 0 ORDER BY name, id
"""
_PACKS = (
    "SELECT item, MAX(pack_qty) AS pack_qty FROM item_code WHERE site = {} AND kind = 'gtin' GROUP BY item"
)
_USABLE = """
SELECT l.item, SUM(sl.on_hand) AS units
FROM stock_level sl JOIN lot l ON l.id = sl.lot
WHERE sl.site = {} AND l.status = 'available' AND (l.expiry IS NULL OR l.expiry >= {})
GROUP BY l.item
"""
_ON_ORDER = """
SELECT pol.item,
       SUM(CASE WHEN pol.packs * pol.pack_qty > pol.received_units
                THEN pol.packs * pol.pack_qty - pol.received_units ELSE 0 END) AS units
FROM purchase_order_line pol JOIN purchase_order po ON po.id = pol."order"
WHERE po.site = {} AND po.status IN ({}, {}, {}) AND pol.closed = {}
GROUP BY pol.item
"""
_USED = """
SELECT l.item, SUM(-m.quantity) AS units
FROM movement m JOIN lot l ON l.id = m.lot
WHERE m.site = {} AND m.kind = 'use' AND m.at >= {}
GROUP BY l.item
"""


def _by_item(rows: list[dict[str, Any]], column: str) -> dict[int, int]:
    return {int(r["item"]): int(r[column] or 0) for r in rows}


async def suggestions(
    site_id: int, *, now: datetime, supplier: str | None = None
) -> list[SupplierSuggestions]:
    """Items at or below their reorder point (or below par), grouped by their default supplier.

    On order counts what is still to come on draft, sent and partly received orders, so a second
    look right after making drafts suggests nothing twice."""
    async with sql.one_connection():
        items = await sql.fetch(_ITEMS, site_id, True)
        packs = _by_item(await sql.fetch(_PACKS, site_id), "pack_qty")
        usable = _by_item(await sql.fetch(_USABLE, site_id, now.date()), "units")
        on_order = _by_item(await sql.fetch(_ON_ORDER, site_id, *OPEN, False), "units")
        since = now - timedelta(weeks=rules.USAGE_WEEKS)
        used = _by_item(await sql.fetch(_USED, site_id, since), "units")
        suppliers = await sql.fetch("SELECT id, name FROM supplier WHERE site = {}", site_id)
    known = {str(s["name"]).strip().casefold(): int(s["id"]) for s in suppliers}
    groups: dict[str, list[SuggestionRead]] = defaultdict(list)
    for item in items:
        item_id = int(item["id"])
        name = str(item["default_supplier"]).strip()
        if supplier is not None and name.casefold() != supplier.strip().casefold():
            continue
        capped = bool(item["publicly_funded"]) and item["kind"] == ItemKind.VACCINE
        position = rules.Position(
            par_level=int(item["par_level"]),
            reorder_point=int(item["reorder_point"]),
            usable_on_hand=usable.get(item_id, 0),
            on_order=on_order.get(item_id, 0),
            pack_qty=packs.get(item_id, 1),
            capped_vaccine=capped,
            used_recently=used.get(item_id, 0),
        )
        if not rules.needs_reorder(position):
            continue
        s = rules.suggest(position)
        groups[name].append(
            SuggestionRead(
                item_id=item_id,
                item_name=item["name"],
                item_kind=item["kind"],
                supplier_name=name,
                supplier_id=known.get(name.casefold()),
                par_level=position.par_level,
                reorder_point=position.reorder_point,
                usable_on_hand=position.usable_on_hand,
                on_order=position.on_order,
                pack_qty=position.pack_qty,
                needed_units=s.needed_units,
                packs=s.packs,
                units=s.units,
                capped=s.capped,
                month_supply=s.month_supply,
                used_recently=position.used_recently,
                note=s.note,
            )
        )
    return [
        SupplierSuggestions(supplier_name=name, supplier_id=known.get(name.casefold()), lines=lines)
        for name, lines in sorted(groups.items(), key=lambda g: (g[0] == "", g[0].casefold()))
    ]


# --- orders ------------------------------------------------------------------------------------

_ORDER_LINES = """
SELECT pol.*, i.name AS item_name
FROM purchase_order_line pol JOIN item i ON i.id = pol.item
WHERE pol."order" IN ({ids}) ORDER BY pol.id
"""
_RECEIPTS = """
SELECT r.*, l.lot_number, l.expiry
FROM order_receipt r JOIN lot l ON l.id = r.lot JOIN purchase_order_line pol ON pol.id = r.line
WHERE pol."order" IN ({ids}) ORDER BY r.id
"""
_SUPPLIER_NAMES = "SELECT id, name FROM supplier WHERE id IN ({ids})"


def _marks(n: int) -> str:
    return ", ".join("{}" for _ in range(n))


def _receipt(r: dict[str, Any]) -> ReceiptRead:
    return ReceiptRead(
        id=r["id"],
        lot_id=r["lot"],
        lot_number=r["lot_number"],
        expiry=r["expiry"],
        location_id=r["location"],
        units=r["units"],
        movement_id=r["movement_id"],
        note=r["note"],
        actor=r["actor"],
        at=r["at"],
        unit_cost=_float(r.get("unit_cost")),
    )


def _float(value: object) -> float | None:
    amount = rules.money(value)
    return None if amount is None else float(amount)


def _price(value: float | None) -> Decimal | None:
    """A price from JSON (a float) stored exactly to the hundredth of a cent."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.0001"))


def _line_value(ln: dict[str, Any]) -> Decimal | None:
    price = rules.money(ln["unit_price"])
    return None if price is None else (price * int(ln["packs"]) * int(ln["pack_qty"])).quantize(rules.CENT)


def _order_value(lines: list[dict[str, Any]]) -> float | None:
    values = [_line_value(ln) for ln in lines]
    if not values or any(v is None for v in values):
        return None
    return float(sum(v for v in values if v is not None))


async def _order_row(site_id: int, order_id: int, *, lock: bool = False) -> dict[str, Any]:
    query = "SELECT * FROM purchase_order WHERE id = {} AND site = {}"
    if lock and not is_sqlite():
        query += " FOR UPDATE"
    row = await sql.fetchrow(query, order_id, site_id)
    if row is None:
        raise NotFound("This order is not known at this site.", code="order_not_found")
    return dict(row)


async def _order_read(order: dict[str, Any]) -> OrderRead:
    return (await _orders_read([order]))[0]


async def _orders_read(orders: list[dict[str, Any]]) -> list[OrderRead]:
    """Orders with their lines and receipts: three queries whatever the number of orders."""
    if not orders:
        return []
    ids = [int(o["id"]) for o in orders]
    supplier_ids = sorted({int(o["supplier"]) for o in orders})
    names = {
        int(r["id"]): str(r["name"])
        for r in await sql.fetch(_SUPPLIER_NAMES.format(ids=_marks(len(supplier_ids))), *supplier_ids)
    }
    lines_by_order: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ln in await sql.fetch(_ORDER_LINES.format(ids=_marks(len(ids))), *ids):
        lines_by_order[int(ln["order"])].append(ln)
    receipts: dict[int, list[ReceiptRead]] = defaultdict(list)
    for r in await sql.fetch(_RECEIPTS.format(ids=_marks(len(ids))), *ids):
        receipts[int(r["line"])].append(_receipt(r))
    return [
        OrderRead(
            id=order["id"],
            number=order["number"],
            site_id=order["site"],
            supplier_id=order["supplier"],
            supplier_name=names.get(int(order["supplier"]), ""),
            status=OrderStatus(order["status"]),
            note=order["note"],
            cancel_reason=order["cancel_reason"],
            created_by=order["created_by"],
            created_at=order["created_at"],
            sent_by=order["sent_by"],
            sent_at=order["sent_at"],
            closed_at=order["closed_at"],
            lines=[
                LineRead(
                    id=ln["id"],
                    item_id=ln["item"],
                    item_name=ln["item_name"],
                    packs=ln["packs"],
                    pack_qty=ln["pack_qty"],
                    ordered_units=int(ln["packs"]) * int(ln["pack_qty"]),
                    suggested_packs=ln["suggested_packs"],
                    received_units=ln["received_units"],
                    closed=bool(ln["closed"]),
                    discrepancy=Discrepancy(ln["discrepancy"]),
                    discrepancy_units=ln["discrepancy_units"],
                    unit_price=_float(ln["unit_price"]),
                    line_value=_float(_line_value(ln)),
                    receipts=receipts.get(int(ln["id"]), []),
                )
                for ln in lines_by_order.get(int(order["id"]), [])
            ],
            value=_order_value(lines_by_order.get(int(order["id"]), [])),
        )
        for order in orders
    ]


async def get_order(site_id: int, order_id: int) -> OrderRead:
    async with sql.one_connection():
        return await _order_read(await _order_row(site_id, order_id))


async def list_orders(site_id: int, *, status: OrderStatus | None = None) -> list[OrderRead]:
    async with sql.one_connection():
        query = "SELECT * FROM purchase_order WHERE site = {}"
        args: list[Any] = [site_id]
        if status is not None:
            query += " AND status = {}"
            args.append(status.value)
        rows = await sql.fetch(query + " ORDER BY id DESC LIMIT 200", *args)
        return await _orders_read([dict(r) for r in rows])


def _refuse(refusal: rules.Refusal | None) -> None:
    if refusal is not None:
        raise RuleViolation(refusal.message, code=refusal.code)


_ITEMS_BY_ID = (
    "SELECT id, name, default_supplier, active, unit_cost FROM item WHERE site = {{}} AND id IN ({marks})"
)


async def _items(site_id: int, item_ids: list[int]) -> dict[int, dict[str, Any]]:
    marks = ", ".join("{}" for _ in item_ids)
    rows = await sql.fetch(
        _ITEMS_BY_ID.format(marks=marks),
        site_id,
        *item_ids,
    )
    return {int(r["id"]): dict(r) for r in rows}


async def create_drafts(principal: Principal, site_id: int, data: DraftsIn, *, now: datetime) -> DraftsResult:
    """Edited suggestions become draft orders, one per supplier. An item's supplier is the line's
    ``supplier_id`` or else its default supplier, added to the site's list when not there yet."""
    item_ids = [ln.item_id for ln in data.lines]
    if len(set(item_ids)) != len(item_ids):
        raise InvalidInput("Each item may appear once.", code="duplicate_item")
    async with write_transaction():
        items = await _items(site_id, item_ids)
        packs = _by_item(await sql.fetch(_PACKS, site_id), "pack_qty")
        by_supplier: dict[int, list[tuple[Any, int]]] = defaultdict(list)
        for i, line in enumerate(data.lines):
            item = items.get(line.item_id)
            if item is None:
                raise NotFound(
                    "This item is not in this site's catalog.",
                    code="item_not_found",
                    fields=[{"field": f"lines[{i}].item_id", "message": "not found"}],
                )
            if line.supplier_id is not None:
                supplier_id = int((await _supplier_row(site_id, line.supplier_id))["id"])
            else:
                supplier_id = await _default_supplier(principal, site_id, item, i, now=now)
            by_supplier[supplier_id].append((line, line.pack_qty or packs.get(line.item_id, 1)))
        orders = []
        for supplier_id, lines in by_supplier.items():
            order_id = await _insert_order(principal, site_id, supplier_id, data.note, now=now)
            for line, pack_qty in lines:
                await PurchaseOrderLine.insert(
                    PurchaseOrderLine(
                        site=site_id,
                        order=order_id,
                        item=line.item_id,
                        packs=line.packs,
                        pack_qty=pack_qty,
                        suggested_packs=line.suggested_packs,
                        unit_price=_price(line.unit_price)
                        if line.unit_price is not None
                        else rules.money(items[line.item_id]["unit_cost"]),
                        received_units=0,
                        closed=False,
                        discrepancy=Discrepancy.NONE.value,
                        discrepancy_units=0,
                    )
                )
            order = await _order_read(await _order_row(site_id, order_id))
            await audit.append(
                actor=principal.actor,
                site_id=site_id,
                action="order.create",
                entity="purchase_order",
                entity_id=order_id,
                payload={
                    "number": order.number,
                    "supplier_id": supplier_id,
                    "lines": [
                        {
                            "item_id": ln.item_id,
                            "packs": ln.packs,
                            "pack_qty": ln.pack_qty,
                            "unit_price": ln.unit_price,
                        }
                        for ln in order.lines
                    ],
                },
                now=now,
            )
            orders.append(order)
        return DraftsResult(orders=orders)


async def _default_supplier(
    principal: Principal, site_id: int, item: dict[str, Any], i: int, *, now: datetime
) -> int:
    name = str(item["default_supplier"]).strip()
    if not name:
        raise InvalidInput(
            f"{item['name']} has no default supplier: choose one for this line.",
            code="no_supplier",
            fields=[{"field": f"lines[{i}].supplier_id", "message": "is required for this item"}],
        )
    found = await _supplier_by_name(site_id, name)
    if found is None:
        created = await _insert_supplier(principal, site_id, name, "", "", now=now)
        if created is not None:
            return created
        found = await _supplier_by_name(site_id, name)
    assert found is not None  # noqa: S101  (inserted by a racing draft, committed before ours)
    return int(found["id"])


async def _insert_order(
    principal: Principal, site_id: int, supplier_id: int, note: str, *, now: datetime
) -> int:
    rows = await PurchaseOrder.insert(
        PurchaseOrder(
            site=site_id,
            supplier=supplier_id,
            number=f"new-{uuid.uuid4().hex[:24]}",
            status=OrderStatus.DRAFT.value,
            note=note,
            cancel_reason="",
            created_by=principal.actor,
            created_at=now,
            sent_by="",
        )
    ).returning(PurchaseOrder.id)
    order_id = int(rows[0]["id"])
    # The number is the site and the row id: unique, and short enough to read over the phone.
    await PurchaseOrder.update({PurchaseOrder.number: f"PO-{site_id}-{order_id:05d}"}).where(
        PurchaseOrder.id == order_id
    )
    return order_id


async def update_line(
    principal: Principal, site_id: int, order_id: int, line_id: int, data: LineUpdate, *, now: datetime
) -> OrderRead:
    """A draft line's packs and/or unit price."""
    if data.packs is None and data.unit_price is None:
        raise InvalidInput(
            "Give the packs or the unit price to change.",
            code="nothing_to_change",
            fields=[{"field": "packs", "message": "or unit_price is required"}],
        )
    async with write_transaction():
        order = await _order_row(site_id, order_id, lock=True)
        _refuse(rules.can_edit(OrderStatus(order["status"])))
        line = await _line_row(order_id, line_id)
        changes: dict[str, Any] = {}
        if data.packs is not None:
            changes["packs"] = data.packs
        if data.unit_price is not None:
            changes["unit_price"] = _price(data.unit_price)
        await PurchaseOrderLine.update({getattr(PurchaseOrderLine, k): v for k, v in changes.items()}).where(
            PurchaseOrderLine.id == line_id
        )
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="order.line_update",
            entity="purchase_order",
            entity_id=order_id,
            payload={
                "line_id": line_id,
                "from": {"packs": line["packs"], "unit_price": _float(line["unit_price"])},
                "to": {k: (_float(v) if k == "unit_price" else v) for k, v in changes.items()},
            },
            now=now,
        )
        return await _order_read(order)


async def remove_line(
    principal: Principal, site_id: int, order_id: int, line_id: int, *, now: datetime
) -> OrderRead:
    """Take a line off a draft (a draft is not yet a record anyone relies on); the last line cannot
    go: cancel the order instead."""
    async with write_transaction():
        order = await _order_row(site_id, order_id, lock=True)
        _refuse(rules.can_edit(OrderStatus(order["status"])))
        line = await _line_row(order_id, line_id)
        others = await sql.fetchrow(
            'SELECT COUNT(*) AS n FROM purchase_order_line WHERE "order" = {} AND id <> {}', order_id, line_id
        )
        if not others or int(others["n"]) == 0:
            raise RuleViolation("This is the order's last line: cancel the order instead.", code="last_line")
        await PurchaseOrderLine.delete().where(PurchaseOrderLine.id == line_id)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="order.line_remove",
            entity="purchase_order",
            entity_id=order_id,
            payload={
                "line_id": line_id,
                "item_id": int(line["item"]),
                "packs": line["packs"],
                "pack_qty": line["pack_qty"],
            },
            now=now,
        )
        return await _order_read(order)


async def _line_row(order_id: int, line_id: int) -> dict[str, Any]:
    row = await sql.fetchrow(
        'SELECT * FROM purchase_order_line WHERE id = {} AND "order" = {}', line_id, order_id
    )
    if row is None:
        raise NotFound("This line is not on this order.", code="line_not_found")
    return dict(row)


async def send_order(
    principal: Principal, site_id: int, order_id: int, *, email: bool = False, now: datetime
) -> OrderRead:
    async with write_transaction():
        order = await _order_row(site_id, order_id, lock=True)
        _refuse(rules.transition(OrderStatus(order["status"]), OrderStatus.SENT))
        changes = {"status": OrderStatus.SENT.value, "sent_by": principal.actor, "sent_at": now}
        await PurchaseOrder.update({getattr(PurchaseOrder, k): v for k, v in changes.items()}).where(
            PurchaseOrder.id == order_id
        )
        read = await _order_read({**order, **changes})
        to = await _queue_email(site_id, read, now=now) if email else ""
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="order.send",
            entity="purchase_order",
            entity_id=order_id,
            payload={"number": order["number"], "emailed_to": to},
            now=now,
        )
        return read


async def _queue_email(site_id: int, order: OrderRead, *, now: datetime) -> str:
    """Queue the order as an e-mail in the delivery outbox (the alerts' sender sends and retries)."""
    supplier = await _supplier_row(site_id, order.supplier_id)
    if not supplier["email"]:
        raise InvalidInput(
            f"{supplier['name']} has no e-mail address: add one, or send the order without e-mail.",
            code="supplier_no_email",
            fields=[{"field": "email", "message": "the supplier has no e-mail address"}],
        )
    site = await sql.fetchrow("SELECT name FROM site WHERE id = {}", site_id)
    site_name = site["name"] if site else ""
    lines = [f"- {ln.item_name}: {ln.packs} x {ln.pack_qty} ({ln.ordered_units} units)" for ln in order.lines]
    body = "\n".join(
        [
            f"Purchase order {order.number} from {site_name}.",
            "",
            *lines,
            "",
            *([f"Note: {order.note}", ""] if order.note else []),
            "Please quote the order number on the packing slip.",
        ]
    )
    await Delivery.insert(
        Delivery(
            key=f"order:{order.id}:sent",
            site=site_id,
            channel="email",
            critical=False,
            target=supplier["email"],
            subject=f"Purchase order {order.number} from {site_name}",
            body=body,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            last_error="",
            created_at=now,
        )
    ).on_conflict(target=Delivery.key, action="DO NOTHING")
    return str(supplier["email"])


async def cancel_order(
    principal: Principal, site_id: int, order_id: int, data: CancelIn, *, now: datetime
) -> OrderRead:
    reason = data.reason.strip()
    if not reason:
        raise InvalidInput(
            "Say why the order is cancelled.",
            code="reason_required",
            fields=[{"field": "reason", "message": "is empty"}],
        )
    async with write_transaction():
        order = await _order_row(site_id, order_id, lock=True)
        _refuse(rules.transition(OrderStatus(order["status"]), OrderStatus.CANCELLED))
        changes = {"status": OrderStatus.CANCELLED.value, "cancel_reason": reason, "closed_at": now}
        await PurchaseOrder.update({getattr(PurchaseOrder, k): v for k, v in changes.items()}).where(
            PurchaseOrder.id == order_id
        )
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="order.cancel",
            entity="purchase_order",
            entity_id=order_id,
            payload={"number": order["number"], "from": order["status"], "reason": reason},
            now=now,
        )
        return await _order_read({**order, **changes})


# --- receiving ---------------------------------------------------------------------------------


async def close_line(
    principal: Principal, site_id: int, order_id: int, line_id: int, data: CloseLineIn, *, now: datetime
) -> OrderRead:
    """Nothing more is coming on this line: what is missing becomes a short discrepancy, and the
    order is received once every line is closed."""
    reason = data.reason.strip()
    if not reason:
        raise InvalidInput(
            "Say why nothing more is coming.",
            code="reason_required",
            fields=[{"field": "reason", "message": "is empty"}],
        )
    async with write_transaction():
        order = await _order_row(site_id, order_id, lock=True)
        _refuse(rules.transition(OrderStatus(order["status"]), OrderStatus.PARTLY_RECEIVED))
        line = await _line_row(order_id, line_id)
        if line["closed"]:
            raise RuleViolation("This line is closed: nothing more is expected on it.", code="line_closed")
        ordered = int(line["packs"]) * int(line["pack_qty"])
        received = int(line["received_units"])
        kind, diff = rules.line_discrepancy(ordered, received, True)
        await PurchaseOrderLine.update(
            {
                PurchaseOrderLine.closed: True,
                PurchaseOrderLine.discrepancy: kind.value,
                PurchaseOrderLine.discrepancy_units: diff,
            }
        ).where(PurchaseOrderLine.id == line_id)
        changes = await _status_after_receipt(order_id, now=now)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="order.close_line",
            entity="purchase_order",
            entity_id=order_id,
            payload={
                "number": order["number"],
                "line_id": line_id,
                "reason": reason,
                "received_units": received,
                "ordered_units": ordered,
                "discrepancy": kind.value,
                "discrepancy_units": diff,
                "status": changes["status"],
            },
            now=now,
        )
        return await _order_read({**order, **changes})


async def _status_after_receipt(order_id: int, *, now: datetime) -> dict[str, Any]:
    lines = await sql.fetch(
        'SELECT packs, pack_qty, received_units, closed FROM purchase_order_line WHERE "order" = {}', order_id
    )
    status = rules.status_after_receipt(
        [
            rules.line_done(int(r["packs"]) * int(r["pack_qty"]), int(r["received_units"]), bool(r["closed"]))
            for r in lines
        ]
    )
    changes: dict[str, Any] = {"status": status.value}
    if status is OrderStatus.RECEIVED:
        changes["closed_at"] = now
    await PurchaseOrder.update({getattr(PurchaseOrder, k): v for k, v in changes.items()}).where(
        PurchaseOrder.id == order_id
    )
    return changes


async def receive_line(
    principal: Principal, site_id: int, order_id: int, line_id: int, data: ReceiveLineIn, *, now: datetime
) -> ReceiveResult:
    lot_number, expiry, units = data.lot_number, data.expiry, data.quantity
    scanned_item: int | None = None
    if data.scan is not None:
        # Read-only: resolved before the write so the transaction stays short.
        answer = await scans.resolve(site_id, data.scan, today=now.date())
        if answer.prefill is None:
            raise InvalidInput(
                "This barcode is not linked to an item here. Link it from the scan screen first.",
                code="scan_unknown",
                fields=[{"field": "scan", "message": "not linked to an item"}],
            )
        scanned_item = answer.prefill.item_id
        lot_number = lot_number or answer.prefill.lot_number
        expiry = expiry or answer.prefill.expiry
        units = units_for(data.quantity, answer.prefill.pack_qty)
    if not lot_number:
        raise InvalidInput(
            "Give the lot number (or scan the GS1 barcode on the box).",
            code="lot_required",
            fields=[{"field": "lot_number", "message": "is required"}],
        )
    async with write_transaction():
        order = await _order_row(site_id, order_id, lock=True)
        status = OrderStatus(order["status"])
        _refuse(rules.transition(status, OrderStatus.PARTLY_RECEIVED))
        line = await _line_row(order_id, line_id)
        if scanned_item is not None and scanned_item != int(line["item"]):
            raise Conflict("This barcode is for another item than this order line.", code="wrong_item")
        if line["closed"]:
            raise RuleViolation("This line is closed: nothing more is expected on it.", code="line_closed")
        result = await ledger.receive(
            principal,
            site_id,
            ReceiveIn(
                item_id=int(line["item"]),
                lot_number=lot_number,
                expiry=expiry,
                quantity=units,
                location_id=data.location_id,
                reference=order["number"],
            ),
            now=now,
        )
        movement = result.movements[0]
        rows = await OrderReceipt.insert(
            OrderReceipt(
                site=site_id,
                line=line_id,
                lot=result.lot.id,
                location=data.location_id,
                units=units,
                movement_id=movement.id,
                note=data.note,
                actor=principal.actor,
                at=now,
                unit_cost=rules.money(line["unit_price"]),
            )
        ).returning(OrderReceipt.id)
        ordered = int(line["packs"]) * int(line["pack_qty"])
        received = int(line["received_units"]) + units
        closed = rules.line_done(ordered, received, data.final)
        kind, diff = rules.line_discrepancy(ordered, received, closed)
        await PurchaseOrderLine.update(
            {
                PurchaseOrderLine.received_units: received,
                PurchaseOrderLine.closed: closed,
                PurchaseOrderLine.discrepancy: kind.value,
                PurchaseOrderLine.discrepancy_units: diff,
            }
        ).where(PurchaseOrderLine.id == line_id)
        changes = await _status_after_receipt(order_id, now=now)
        new_status = OrderStatus(changes["status"])
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="order.receive",
            entity="purchase_order",
            entity_id=order_id,
            payload={
                "number": order["number"],
                "line_id": line_id,
                "item_id": int(line["item"]),
                "lot_id": result.lot.id,
                "units": units,
                "movement_id": movement.id,
                "received_units": received,
                "ordered_units": ordered,
                "discrepancy": kind.value,
                "discrepancy_units": diff,
                "status": new_status.value,
            },
            now=now,
        )
        read = await _order_read({**order, **changes})
        receipt = next(r for ln in read.lines for r in ln.receipts if r.id == int(rows[0]["id"]))
        warnings = [w.message for w in result.warnings]
        if kind is Discrepancy.OVER:
            warnings.append(f"{diff} more than ordered arrived; recorded as an over-delivery.")
        elif kind is Discrepancy.SHORT:
            warnings.append(f"{diff} fewer than ordered arrived; recorded as a short delivery.")
        return ReceiveResult(order=read, line_id=line_id, receipt=receipt, units=units, warnings=warnings)
