"""Pure stock rules: what may be used, FEFO, and the ledger arithmetic. No I/O."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date


class ItemKind(enum.StrEnum):
    VACCINE = "vaccine"
    SUPPLY = "supply"
    MEDICATION = "medication"


class Storage(enum.StrEnum):
    FRIDGE = "fridge"
    FREEZER = "freezer"
    ROOM = "room"


class LotStatus(enum.StrEnum):
    AVAILABLE = "available"
    QUARANTINED = "quarantined"
    EXPIRED = "expired"
    RECALLED = "recalled"
    DEPLETED = "depleted"


class MovementKind(enum.StrEnum):
    RECEIVE = "receive"
    USE = "use"
    WASTE = "waste"
    TRANSFER = "transfer"
    RETURN = "return"
    ADJUST = "adjust"


class WasteReason(enum.StrEnum):
    EXPIRED = "expired"
    BROKEN = "broken"
    COLD_CHAIN = "cold_chain"
    BEYOND_USE = "beyond_use"
    OTHER = "other"


class AdjustReason(enum.StrEnum):
    COUNT = "count"
    FOUND = "found"
    MISSING = "missing"
    DATA_ENTRY = "data_entry"


@dataclass(frozen=True)
class Block:
    code: str
    message: str


def use_block(status: str, expiry: date | None, today: date) -> Block | None:
    """Why a lot may not be used (administered or moved for use), or None when it may."""
    if status == LotStatus.RECALLED:
        return Block("lot_recalled", "This lot is recalled. Do not use it; set it aside for return.")
    if status == LotStatus.QUARANTINED:
        return Block("lot_quarantined", "This lot is on hold (DO NOT USE) until a decision is made.")
    if status == LotStatus.EXPIRED or (expiry is not None and expiry < today):
        return Block("lot_expired", "This lot is expired. Do not use it; record it as waste.")
    return None


@dataclass(frozen=True)
class LotOnHand:
    lot_id: int
    lot_number: str
    expiry: date | None
    status: str
    on_hand: int


def fefo_alternative(chosen: LotOnHand, others: Iterable[LotOnHand], today: date) -> LotOnHand | None:
    """First expiry, first out: a usable lot of the same item here that expires sooner, if any."""
    if chosen.expiry is None:
        candidates = [o for o in others if o.expiry is not None]
    else:
        candidates = [o for o in others if o.expiry is not None and o.expiry < chosen.expiry]
    usable = [
        o
        for o in candidates
        if o.lot_id != chosen.lot_id and o.on_hand > 0 and use_block(o.status, o.expiry, today) is None
    ]
    return min(usable, key=lambda o: (o.expiry, o.lot_id)) if usable else None


def ledger_total(quantities: Sequence[int]) -> int:
    return sum(quantities)


def apply_delta(on_hand: int, delta: int) -> int | None:
    """New on-hand after a movement, or None when it would go negative (the ledger never does)."""
    after = on_hand + delta
    return after if after >= 0 else None


def units_for(quantity: int, pack_qty: int) -> int:
    """A scan of a pack GTIN counts pack_qty units per pack."""
    return quantity * max(1, pack_qty)
