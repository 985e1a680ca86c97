"""Suggestion arithmetic (packs, on order, the one-month cap), discrepancies and the lifecycle."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.purchasing.rules import (
    Discrepancy,
    OrderStatus,
    Position,
    Valued,
    can_edit,
    format_cad,
    line_discrepancy,
    line_done,
    lot_unit_cost,
    money,
    month_supply,
    status_after_receipt,
    suggest,
    transition,
)


def _p(**kw: int | bool) -> Position:
    base: dict[str, int | bool] = {
        "par_level": 50,
        "reorder_point": 0,
        "usable_on_hand": 0,
        "on_order": 0,
        "pack_qty": 1,
    }
    base.update(kw)
    return Position(**base)  # type: ignore[arg-type]


def test_par_minus_on_hand_minus_on_order() -> None:
    s = suggest(_p(usable_on_hand=12, on_order=8))
    assert (s.packs, s.units, s.needed_units, s.capped) == (30, 30, 30, False)


def test_rounded_up_to_whole_packs() -> None:
    s = suggest(_p(usable_on_hand=12, on_order=8, pack_qty=10))
    assert (s.packs, s.units) == (3, 30)
    s = suggest(_p(usable_on_hand=11, on_order=8, pack_qty=10))
    assert (s.packs, s.units, s.needed_units) == (4, 40, 31)


def test_nothing_when_at_or_above_par() -> None:
    assert suggest(_p(usable_on_hand=50)).packs == 0
    assert suggest(_p(usable_on_hand=40, on_order=20)).packs == 0


def test_reorder_point_waits_until_reached() -> None:
    assert suggest(_p(reorder_point=20, usable_on_hand=21)).packs == 0
    assert suggest(_p(reorder_point=20, usable_on_hand=20)).packs == 30


def test_vaccine_capped_at_one_month_supply() -> None:
    # 80 doses over 8 weeks = 10 a week, about 43 a month; 5 on hand, 0 on order: room for 38.
    assert month_supply(80, 8) == 43
    s = suggest(_p(capped_vaccine=True, used_recently=80, usable_on_hand=5, pack_qty=10))
    assert (s.packs, s.units, s.month_supply, s.capped) == (3, 30, 43, True)
    assert "one month" in s.note


def test_vaccine_cap_counts_on_order() -> None:
    s = suggest(_p(capped_vaccine=True, used_recently=80, usable_on_hand=5, on_order=30, pack_qty=10))
    assert (s.packs, s.capped) == (0, True)


def test_vaccine_under_the_cap_is_not_capped() -> None:
    s = suggest(_p(par_level=20, capped_vaccine=True, used_recently=80, pack_qty=10))
    assert (s.packs, s.capped, s.month_supply) == (2, False, 43)


def test_vaccine_without_usage_is_flagged_not_capped() -> None:
    s = suggest(_p(capped_vaccine=True, used_recently=0, pack_qty=10))
    assert (s.packs, s.capped) == (5, False)
    assert "No use recorded" in s.note


def test_discrepancies() -> None:
    assert line_discrepancy(30, 20, closed=False) == (Discrepancy.NONE, 0)
    assert line_discrepancy(30, 20, closed=True) == (Discrepancy.SHORT, 10)
    assert line_discrepancy(30, 35, closed=False) == (Discrepancy.OVER, 5)
    assert line_discrepancy(30, 30, closed=True) == (Discrepancy.NONE, 0)
    assert line_done(30, 20, closed=False) is False
    assert line_done(30, 20, closed=True) is True
    assert line_done(30, 31, closed=False) is True


def test_status_after_receipt() -> None:
    assert status_after_receipt([True, False]) is OrderStatus.PARTLY_RECEIVED
    assert status_after_receipt([True, True]) is OrderStatus.RECEIVED


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (OrderStatus.DRAFT, OrderStatus.SENT),
        (OrderStatus.DRAFT, OrderStatus.CANCELLED),
        (OrderStatus.SENT, OrderStatus.PARTLY_RECEIVED),
        (OrderStatus.SENT, OrderStatus.RECEIVED),
        (OrderStatus.SENT, OrderStatus.CANCELLED),
        (OrderStatus.PARTLY_RECEIVED, OrderStatus.RECEIVED),
        (OrderStatus.PARTLY_RECEIVED, OrderStatus.CANCELLED),
    ],
)
def test_allowed_transitions(current: OrderStatus, target: OrderStatus) -> None:
    assert transition(current, target) is None


@pytest.mark.parametrize(
    ("current", "target", "code"),
    [
        (OrderStatus.SENT, OrderStatus.SENT, "order_not_draft"),
        (OrderStatus.DRAFT, OrderStatus.RECEIVED, "order_not_open"),
        (OrderStatus.DRAFT, OrderStatus.PARTLY_RECEIVED, "order_not_open"),
        (OrderStatus.CANCELLED, OrderStatus.RECEIVED, "order_not_open"),
        (OrderStatus.RECEIVED, OrderStatus.CANCELLED, "order_closed"),
        (OrderStatus.CANCELLED, OrderStatus.CANCELLED, "order_closed"),
        (OrderStatus.SENT, OrderStatus.DRAFT, "order_not_draft"),
    ],
)
def test_refused_transitions(current: OrderStatus, target: OrderStatus, code: str) -> None:
    refusal = transition(current, target)
    assert refusal is not None
    assert refusal.code == code
    assert current.value.replace("_", " ") in refusal.message


def test_only_drafts_are_edited() -> None:
    assert can_edit(OrderStatus.DRAFT) is None
    refusal = can_edit(OrderStatus.SENT)
    assert refusal is not None
    assert refusal.code == "order_not_draft"


def test_lot_cost_from_receipts_then_catalog_then_unknown() -> None:
    d = Decimal
    assert lot_unit_cost(10, d("420"), 0, d("40")) == d("42")  # what was paid, not the list price
    assert lot_unit_cost(10, d("210"), 5, d("40")) == d("41")  # 5 at $42, 5 unpriced at the catalog $40
    assert lot_unit_cost(10, d("210"), 5, None) == d("42")  # only the priced part is evidence
    assert lot_unit_cost(10, None, 10, d("40")) == d("40")
    assert lot_unit_cost(0, None, 0, None) is None


def test_valued_keeps_unpriced_units_apart() -> None:
    v = Valued()
    v.add(3, Decimal("1.005"))
    v.add(4, None)
    assert (v.cents, v.unpriced_units) == (Decimal("3.02"), 4)


def test_cad_per_language() -> None:
    assert format_cad(Decimal("1234.5")) == "$1,234.50"
    assert format_cad(Decimal("1234.5"), "fr") == "1\u00a0234,50\u00a0$"
    assert format_cad(Decimal("-0.5")) == "-$0.50"
    assert (format_cad(None), format_cad(None, "fr")) == ("unknown", "inconnu")
    assert money(None) is None and money(12.5) == Decimal("12.5")
