"""Catalog use cases: items and the barcodes that identify them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import msgspec
from piccolo.columns import Column

from server.core import audit
from server.core.auth import Principal
from server.core.service import get_site
from server.db import is_sqlite, write_transaction
from server.errors import Conflict, InvalidInput, NotFound
from server.stock.csvio import items_to_csv, parse_items_csv
from server.stock.queries import like_pattern
from server.stock.schemas import CodeIn, CodeRead, ImportResult, ItemCreate, ItemImport, ItemRead, ItemUpdate
from server.stock.tables import Item, ItemCode

ITEM_FIELDS = (
    "kind",
    "name",
    "din",
    "manufacturer",
    "unit",
    "doses_per_unit",
    "storage",
    "par_level",
    "reorder_point",
    "reorder_qty",
    "default_supplier",
    "publicly_funded",
    "beyond_use_days",
    "unit_cost",
)


def _cost(value: float | None) -> Decimal | None:
    """Stored exactly, to the hundredth of a cent (a float from JSON is not exact)."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.0001"))


def _item(row: dict[str, Any], codes: list[CodeRead]) -> ItemRead:
    cost = row.get("unit_cost")
    return msgspec.convert(
        {**row, "unit_cost": None if cost is None else float(cost), "site_id": row["site"], "codes": codes},
        ItemRead,
    )


async def _codes_for(item_ids: list[int]) -> dict[int, list[CodeRead]]:
    found: dict[int, list[CodeRead]] = {i: [] for i in item_ids}
    if not item_ids:
        return found
    rows = (
        await ItemCode.select(ItemCode.item, ItemCode.code, ItemCode.kind, ItemCode.pack_qty)
        .where(ItemCode.item.is_in(item_ids))
        .order_by(ItemCode.id)
    )
    for r in rows:
        found[int(r["item"])].append(CodeRead(code=r["code"], kind=r["kind"], pack_qty=r["pack_qty"]))
    return found


async def list_items(site_id: int, *, search: str = "", include_inactive: bool = False) -> list[ItemRead]:
    query = Item.select().where(Item.site == site_id).order_by(Item.name)
    if not include_inactive:
        query = query.where(Item.active == True)  # noqa: E712
    if search.strip():
        pattern = like_pattern(search)
        # SQLite's LIKE already ignores case (ASCII letters); it has no ILIKE.
        query = query.where(Item.name.like(pattern) if is_sqlite() else Item.name.ilike(pattern))
    rows = await query
    codes = await _codes_for([int(r["id"]) for r in rows])
    return [_item(r, codes[int(r["id"])]) for r in rows]


async def get_item(site_id: int, item_id: int) -> ItemRead:
    row = await Item.select().where((Item.id == item_id) & (Item.site == site_id)).first()
    if row is None:
        raise NotFound("This item is not in this site's catalog.", code="item_not_found")
    return _item(row, (await _codes_for([item_id]))[item_id])


async def _add_code(site_id: int, item_id: int, code: CodeIn, now: datetime) -> None:
    text = code.code.strip()
    existing = (
        await ItemCode.select(ItemCode.item)
        .where((ItemCode.site == site_id) & (ItemCode.code == text))
        .first()
    )
    if existing is not None:
        raise Conflict(f"The code {text} already belongs to another item here.", code="code_taken")
    await ItemCode.insert(
        ItemCode(
            site=site_id, item=item_id, code=text, kind=code.kind, pack_qty=code.pack_qty, created_at=now
        )
    )


async def create_item(principal: Principal, site_id: int, data: ItemCreate, *, now: datetime) -> ItemRead:
    values = {f: getattr(data, f) for f in ITEM_FIELDS}
    values["name"] = data.name.strip()
    values["unit_cost"] = _cost(data.unit_cost)
    async with write_transaction():
        await get_site(site_id)
        if await Item.exists().where((Item.site == site_id) & (Item.name == values["name"])):
            raise Conflict(f"An item named {values['name']!r} is already in the catalog.", code="item_exists")
        rows = await Item.insert(Item(site=site_id, created_at=now, **values)).returning(Item.id)
        item_id = int(rows[0]["id"])
        for code in data.codes:
            await _add_code(site_id, item_id, code, now)
        item = await get_item(site_id, item_id)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="item.create",
            entity="item",
            entity_id=item_id,
            payload=msgspec.to_builtins(item),
            now=now,
        )
    return item


async def update_item(
    principal: Principal, site_id: int, item_id: int, data: ItemUpdate, *, now: datetime
) -> ItemRead:
    changes = {k: v for k, v in msgspec.to_builtins(data).items() if v is not None}
    async with write_transaction():
        await get_item(site_id, item_id)
        if changes:
            stored = {**changes, **({"unit_cost": _cost(data.unit_cost)} if "unit_cost" in changes else {})}
            await Item.update(cast("dict[Column | str, Any]", stored)).where(Item.id == item_id)
            await audit.append(
                actor=principal.actor,
                site_id=site_id,
                action="item.update",
                entity="item",
                entity_id=item_id,
                payload=changes,
                now=now,
            )
        return await get_item(site_id, item_id)


async def link_code(
    principal: Principal, site_id: int, item_id: int, code: CodeIn, *, now: datetime
) -> ItemRead:
    """An unknown barcode is linked to an item once; scans recognise it from then on."""
    async with write_transaction():
        await get_item(site_id, item_id)
        await _add_code(site_id, item_id, code, now)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="item.link_code",
            entity="item",
            entity_id=item_id,
            payload=msgspec.to_builtins(code),
            now=now,
        )
        return await get_item(site_id, item_id)


async def import_items(
    principal: Principal, site_id: int, data: ItemImport, *, now: datetime
) -> ImportResult:
    """Dry run lists what would change and every bad row; a file with any bad row imports nothing."""
    parsed = parse_items_csv(data.csv)
    existing = {
        str(r["name"]).lower(): int(r["id"])
        for r in await Item.select(Item.id, Item.name).where(Item.site == site_id)
    }
    created = [i.name for i in parsed.items if i.name.strip().lower() not in existing]
    updated = [i.name for i in parsed.items if i.name.strip().lower() in existing]
    result = ImportResult(dry_run=data.dry_run, created=created, updated=updated, errors=parsed.errors)
    if parsed.errors:
        raise InvalidInput(
            f"{len(parsed.errors)} row(s) have problems; nothing was imported.",
            code="csv_rows_invalid",
            fields=[{"field": f"row {e['row']}", "message": str(e["message"])} for e in parsed.errors],
        )
    if data.dry_run:
        return result
    async with write_transaction():
        for item in parsed.items:
            item_id = existing.get(item.name.strip().lower())
            if item_id is None:
                await create_item(principal, site_id, item, now=now)
                continue
            # The kind of an existing item is not changed by an import (its lots and history depend on it).
            changes = {f: getattr(item, f) for f in ITEM_FIELDS if f not in ("name", "kind")}
            await update_item(principal, site_id, item_id, msgspec.convert(changes, ItemUpdate), now=now)
            known = {c.code for c in (await get_item(site_id, item_id)).codes}
            for code in item.codes:
                if code.code not in known:
                    await link_code(principal, site_id, item_id, code, now=now)
    return result


async def export_items(site_id: int) -> str:
    return items_to_csv(await list_items(site_id, include_inactive=True))
