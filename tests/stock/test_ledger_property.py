"""Property: over any sequence of movements, on hand = sum of movements, never negative, and a
refused movement changes nothing."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.clock import utcnow
from server.core.auth import SYSTEM
from server.core.rules import LocationKind
from server.errors import DomainError
from server.stock import ledger, rollup
from server.stock.rules import AdjustReason, WasteReason
from server.stock.schemas import AdjustIn, TransferIn, UseIn, WasteIn
from server.stock.tables import Movement, StockLevel
from tests.factories import make_location, make_site
from tests.stock.factories import make_item, receive

_names = itertools.count()
OPS = st.lists(
    st.tuples(
        st.sampled_from(["receive", "use", "waste", "transfer", "adjust"]),
        st.integers(min_value=0, max_value=12),
        st.integers(min_value=0, max_value=1),
        st.integers(min_value=0, max_value=1),
    ),
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
async def test_on_hand_is_the_sum_of_movements_and_never_negative(
    ops: list[tuple[str, int, int, int]],
) -> None:
    site = await make_site(f"Property clinic {next(_names)}")
    places = [
        await make_location(site, "Fridge", LocationKind.FRIDGE),
        await make_location(site, "Shelf", LocationKind.CABINET),
    ]
    item = await make_item(site, "Vaccine X")
    lot_id = (await receive(site, item, places[0], 1)).lot.id
    model = {places[0]: 1, places[1]: 0}
    now = utcnow()
    for op, qty, a, b in ops:
        here, there = places[a], places[b]
        try:
            if op == "receive":
                if qty == 0:
                    continue
                await receive(site, item, here, qty)
                model[here] += qty
            elif op == "use" and qty:
                await ledger.use(SYSTEM, site, UseIn(lot_id=lot_id, location_id=here, quantity=qty), now=now)
                model[here] -= qty
            elif op == "waste" and qty:
                await ledger.waste(
                    SYSTEM,
                    site,
                    WasteIn(lot_id=lot_id, location_id=here, quantity=qty, reason=WasteReason.OTHER),
                    now=now,
                )
                model[here] -= qty
            elif op == "transfer" and qty and here != there:
                await ledger.transfer(
                    SYSTEM,
                    site,
                    TransferIn(lot_id=lot_id, from_location_id=here, to_location_id=there, quantity=qty),
                    now=now,
                )
                model[here] -= qty
                model[there] += qty
            elif op == "adjust":
                await ledger.adjust(
                    SYSTEM,
                    site,
                    AdjustIn(lot_id=lot_id, location_id=here, counted=qty, reason=AdjustReason.COUNT),
                    now=now,
                )
                model[here] = qty
        except DomainError as refused:
            assert refused.code in ("not_enough_stock", "no_change")
        for place in places:
            level = (
                await StockLevel.select(StockLevel.on_hand)
                .where((StockLevel.lot == lot_id) & (StockLevel.location == place))
                .first()
            )
            on_hand = level["on_hand"] if level else 0
            moved = await Movement.select(Movement.quantity).where(
                (Movement.lot == lot_id) & (Movement.location == place)
            )
            assert on_hand == sum(m["quantity"] for m in moved) == model[place] >= 0
        assert await rollup.mismatches() == (0, 0)
