"""Read models over the ledger: on hand, expiring, the journal, lot detail.

Each list is one query with its joins (no N+1; a test holds the query count constant as rows grow)
and pages by keyset, newest first, so deep pages cost what the first does.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from server.core.auth import actor_names
from server.db import is_sqlite
from server.errors import NotFound
from server.stock.rules import ItemKind, LotStatus, MovementKind
from server.stock.schemas import JournalPage, JournalRow, LotDetail, LotLevel, LotRead, StockRow
from server.stock.tables import Lot, Movement, StockLevel

# Piccolo types nested joins loosely, hence the ignores on multi-hop columns.
_LEVEL_COLUMNS = (
    StockLevel.lot,
    StockLevel.location,
    StockLevel.on_hand,
    StockLevel.lot.item,
    StockLevel.lot.item.name,  # type: ignore[union-attr]
    StockLevel.lot.item.kind,  # type: ignore[union-attr]
    StockLevel.lot.lot_number,
    StockLevel.lot.expiry,
    StockLevel.lot.status,
    StockLevel.location.name,
)


def _stock_row(r: dict[str, Any]) -> StockRow:
    return StockRow(
        item_id=r["lot.item"],
        item_name=r["lot.item.name"],
        item_kind=ItemKind(r["lot.item.kind"]),
        lot_id=r["lot"],
        lot_number=r["lot.lot_number"],
        expiry=r["lot.expiry"],
        status=LotStatus(r["lot.status"]),
        location_id=r["location"],
        location_name=r["location.name"],
        on_hand=r["on_hand"],
    )


def like_pattern(text: str) -> str:
    """A contains-pattern for what a person typed; LIKE's wildcards in it are taken as spaces."""
    cleaned = " ".join(text.replace("%", " ").replace("_", " ").split())
    return f"%{cleaned}%"


async def on_hand(
    site_id: int,
    *,
    item_id: int | None = None,
    location_id: int | None = None,
    include_empty: bool = False,
    q: str | None = None,
    status: LotStatus | None = None,
) -> list[StockRow]:
    query = (
        StockLevel.select(*_LEVEL_COLUMNS)
        .where(StockLevel.site == site_id)
        .order_by(StockLevel.lot.item.name)  # type: ignore[union-attr]
        .order_by(StockLevel.lot.expiry)
    )
    if item_id is not None:
        query = query.where(StockLevel.lot.item == item_id)
    if location_id is not None:
        query = query.where(StockLevel.location == location_id)
    if not include_empty:
        query = query.where(StockLevel.on_hand > 0)
    if q and q.strip():
        pattern = like_pattern(q)
        name, number = StockLevel.lot.item.name, StockLevel.lot.lot_number  # type: ignore[union-attr]
        if is_sqlite():  # SQLite's LIKE already ignores case (ASCII letters); it has no ILIKE
            query = query.where(name.like(pattern) | number.like(pattern))
        else:
            query = query.where(name.ilike(pattern) | number.ilike(pattern))
    if status is not None:
        query = query.where(StockLevel.lot.status == status.value)
    return [_stock_row(r) for r in await query]


async def expiring(site_id: int, *, within_days: int, today: date) -> list[StockRow]:
    """Stock on a shelf that expires within N days, expired stock included, soonest first."""
    rows = await (
        StockLevel.select(*_LEVEL_COLUMNS)
        .where(
            (StockLevel.site == site_id)
            & (StockLevel.on_hand > 0)
            & (StockLevel.lot.expiry <= today + timedelta(days=within_days))
        )
        .order_by(StockLevel.lot.expiry)
    )
    return [_stock_row(r) for r in rows]


_JOURNAL_COLUMNS = (
    Movement.id,
    Movement.kind,
    Movement.at,
    Movement.quantity,
    Movement.reason,
    Movement.reference,
    Movement.note,
    Movement.actor,
    Movement.lot,
    Movement.lot.lot_number,
    Movement.lot.expiry,
    Movement.lot.item,
    Movement.lot.item.name,  # type: ignore[union-attr]
    Movement.location,
    Movement.location.name,
)


def _journal_row(r: dict[str, Any], names: dict[str, str]) -> JournalRow:
    return JournalRow(
        id=r["id"],
        kind=MovementKind(r["kind"]),
        at=r["at"],
        quantity=r["quantity"],
        reason=r["reason"],
        reference=r["reference"],
        note=r["note"],
        actor=r["actor"],
        actor_name=names.get(r["actor"], r["actor"]),
        lot_id=r["lot"],
        lot_number=r["lot.lot_number"],
        expiry=r["lot.expiry"],
        item_id=r["lot.item"],
        item_name=r["lot.item.name"],
        location_id=r["location"],
        location_name=r["location.name"],
    )


async def journal(
    site_id: int,
    *,
    before: int | None = None,
    limit: int = 50,
    item_id: int | None = None,
    lot_id: int | None = None,
    location_id: int | None = None,
    kind: MovementKind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> JournalPage:
    query = Movement.select(*_JOURNAL_COLUMNS).where(Movement.site == site_id)
    if before is not None:
        query = query.where(Movement.id < before)
    if item_id is not None:
        query = query.where(Movement.lot.item == item_id)
    if lot_id is not None:
        query = query.where(Movement.lot == lot_id)
    if location_id is not None:
        query = query.where(Movement.location == location_id)
    if kind is not None:
        query = query.where(Movement.kind == kind.value)
    if since is not None:
        query = query.where(Movement.at >= since)
    if until is not None:
        query = query.where(Movement.at < until)
    rows = await query.order_by(Movement.id, ascending=False).limit(limit)
    names = await actor_names(r["actor"] for r in rows)
    items = [_journal_row(r, names) for r in rows]
    return JournalPage(items=items, next_before=items[-1].id if len(items) == limit else None)


async def lot_detail(site_id: int, lot_id: int) -> LotDetail:
    lot = (
        await Lot.select(*Lot.all_columns(), Lot.item.name)
        .where((Lot.id == lot_id) & (Lot.site == site_id))
        .first()
    )
    if lot is None:
        raise NotFound("This lot is not known at this site.", code="lot_not_found")
    levels = (
        await StockLevel.select(StockLevel.location, StockLevel.location.name, StockLevel.on_hand)
        .where(StockLevel.lot == lot_id)
        .order_by(StockLevel.location.name)
    )
    history = await journal(site_id, lot_id=lot_id, limit=200)
    return LotDetail(
        lot=LotRead(
            id=lot["id"],
            item_id=lot["item"],
            lot_number=lot["lot_number"],
            expiry=lot["expiry"],
            serial=lot["serial"],
            status=LotStatus(lot["status"]),
        ),
        item_name=lot["item.name"],
        levels=[
            LotLevel(location_id=r["location"], location_name=r["location.name"], on_hand=r["on_hand"])
            for r in levels
        ],
        history=history.items,
    )
