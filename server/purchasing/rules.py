"""Pure reordering rules: the suggestion arithmetic, the one-month cap, discrepancies and the order
lifecycle. No I/O.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

# Ontario: keep no more than one month's supply of publicly funded vaccine (domain.md §3).
USAGE_WEEKS = 8
WEEKS_PER_MONTH = 52 / 12


class OrderStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class Discrepancy(enum.StrEnum):
    NONE = "none"
    SHORT = "short"
    OVER = "over"


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


@dataclass(frozen=True)
class Position:
    """What a suggestion is computed from, for one item at one site (quantities in units)."""

    par_level: int
    reorder_point: int
    usable_on_hand: int
    on_order: int
    pack_qty: int
    capped_vaccine: bool = False
    used_recently: int = 0  # units used over the last USAGE_WEEKS weeks
    usage_weeks: int = USAGE_WEEKS


@dataclass(frozen=True)
class Suggestion:
    packs: int
    units: int
    needed_units: int  # par - usable on hand - on order, before rounding and capping
    month_supply: int | None  # units, for capped vaccines with a usage history
    capped: bool
    note: str


def month_supply(used: int, weeks: int) -> int:
    """One month's supply from usage over ``weeks`` weeks, rounded down (the cap is a maximum)."""
    if weeks <= 0:
        return 0
    return math.floor(used / weeks * WEEKS_PER_MONTH)


def needs_reorder(p: Position) -> bool:
    """At or below the reorder point when one is set; otherwise below the par level."""
    stock = p.usable_on_hand + p.on_order
    if p.reorder_point > 0:
        return stock <= p.reorder_point and stock < p.par_level
    return stock < p.par_level


def suggest(p: Position) -> Suggestion:
    """par - usable on hand - on order, rounded UP to whole packs; for publicly funded vaccines,
    capped so that what is held and on order stays within one month's supply (packs rounded DOWN
    under the cap). Without any recent usage the cap cannot be computed: no cap, and a note says so.
    """
    pack = max(1, p.pack_qty)
    needed = max(0, p.par_level - p.usable_on_hand - p.on_order)
    if not needs_reorder(p):
        return Suggestion(0, 0, needed, None, False, "")
    packs = math.ceil(needed / pack)
    if not p.capped_vaccine:
        return Suggestion(packs, packs * pack, needed, None, False, "")
    if p.used_recently <= 0:
        return Suggestion(
            packs,
            packs * pack,
            needed,
            None,
            False,
            "No use recorded in recent weeks: check this against one month's supply.",
        )
    supply = month_supply(p.used_recently, p.usage_weeks)
    room = max(0, supply - p.usable_on_hand - p.on_order)
    cap_packs = room // pack
    if cap_packs >= packs:
        return Suggestion(packs, packs * pack, needed, supply, False, "")
    return Suggestion(
        cap_packs,
        cap_packs * pack,
        needed,
        supply,
        True,
        f"Capped at one month's supply ({supply} units from recent use).",
    )


def line_discrepancy(ordered_units: int, received_units: int, closed: bool) -> tuple[Discrepancy, int]:
    """Over as soon as more arrived than ordered; short once the line is closed with less."""
    diff = received_units - ordered_units
    if diff > 0:
        return Discrepancy.OVER, diff
    if diff < 0 and closed:
        return Discrepancy.SHORT, -diff
    return Discrepancy.NONE, 0


def line_done(ordered_units: int, received_units: int, closed: bool) -> bool:
    return closed or received_units >= ordered_units


# Which status may follow which; receiving moves sent/partly_received on by itself.
_NEXT: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.DRAFT: frozenset({OrderStatus.SENT, OrderStatus.CANCELLED}),
    OrderStatus.SENT: frozenset({OrderStatus.PARTLY_RECEIVED, OrderStatus.RECEIVED, OrderStatus.CANCELLED}),
    OrderStatus.PARTLY_RECEIVED: frozenset(
        {OrderStatus.PARTLY_RECEIVED, OrderStatus.RECEIVED, OrderStatus.CANCELLED}
    ),
    OrderStatus.RECEIVED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

_WHY_NOT: dict[OrderStatus, tuple[str, str]] = {
    OrderStatus.DRAFT: ("order_not_draft", "An order cannot go back to draft."),
    OrderStatus.SENT: ("order_not_draft", "Only a draft order can be sent."),
    OrderStatus.PARTLY_RECEIVED: ("order_not_open", "Only a sent order can be received against."),
    OrderStatus.RECEIVED: ("order_not_open", "Only a sent order can be received against."),
    OrderStatus.CANCELLED: ("order_closed", "A received or cancelled order cannot be cancelled."),
}


def transition(current: OrderStatus, target: OrderStatus) -> Refusal | None:
    """None when the order may move from ``current`` to ``target``, else why not."""
    if target in _NEXT[current]:
        return None
    code, message = _WHY_NOT[target]
    return Refusal(code, f"{message} This order is {current.value.replace('_', ' ')}.")


def status_after_receipt(lines_done: list[bool]) -> OrderStatus:
    return OrderStatus.RECEIVED if lines_done and all(lines_done) else OrderStatus.PARTLY_RECEIVED


def can_edit(status: OrderStatus) -> Refusal | None:
    if status is OrderStatus.DRAFT:
        return None
    return Refusal("order_not_draft", f"Only a draft order can be changed. This one is {status.value}.")
