"""Pure reordering rules: the suggestion arithmetic, the one-month cap, discrepancies and the order
lifecycle. No I/O.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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


# --- money -------------------------------------------------------------------------------------
# Amounts are Decimal dollars (CAD). A cost that is not known stays None all the way to the
# screen: adding it as zero would make a report look better than the stock is.

CENT = Decimal("0.01")
NBSP = "\u00a0"  # French groups thousands and sets the $ apart with a no-break space


def money(value: object) -> Decimal | None:
    """A stored or summed amount as Decimal (SQLite hands sums back as float, PostgreSQL as Decimal)."""
    if value is None or value == "":
        return None
    return Decimal(str(value))


def lot_unit_cost(
    received_units: int, received_value: Decimal | None, unpriced_units: int, item_cost: Decimal | None
) -> Decimal | None:
    """What one unit of a lot cost: the order receipts' prices weighted by units, with the item's
    catalog cost for units received without a price (or received outside an order); None when
    neither is known."""
    priced = received_units - unpriced_units
    if priced > 0 and received_value is not None:
        if unpriced_units == 0:
            return received_value / priced
        if item_cost is not None:
            return (received_value + item_cost * unpriced_units) / received_units
        return received_value / priced  # the priced part is the best evidence there is
    return item_cost


@dataclass
class Valued:
    """A sum of money with what could not be priced kept beside it."""

    value: Decimal = Decimal(0)
    unpriced_units: int = 0

    def add(self, units: int, unit_cost: Decimal | None) -> None:
        if unit_cost is None:
            self.unpriced_units += units
        else:
            self.value += unit_cost * units

    @property
    def cents(self) -> Decimal:
        return self.value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_cad(amount: Decimal | None, lang: str = "en") -> str:
    """CAD as people read it: $1,234.56 in English, 1 234,56 $ in French; 'unknown' / 'inconnu'."""
    if amount is None:
        return "inconnu" if lang == "fr" else "unknown"
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    whole, _, frac = f"{abs(cents):.2f}".partition(".")
    groups = f"{int(whole):,}"
    if lang == "fr":
        return sign + groups.replace(",", NBSP) + "," + frac + NBSP + "$"
    return f"{sign}${groups}.{frac}"
