"""An order sent two weeks ago and not all in is an alert until it is received or cancelled."""

from __future__ import annotations

from datetime import timedelta

from server.alerts.rules import ORDER_OVERDUE
from server.alerts.sweep import sweep
from server.alerts.tables import Alert
from server.clock import utcnow
from tests.factories import Client
from tests.purchasing.test_routes import _clinic, _sent_gloves_order


async def test_an_order_not_all_in_after_two_weeks_is_an_alert_until_cancelled(client: Client) -> None:
    c = await _clinic(client)
    mgr, order = await _sent_gloves_order(client, c)
    now = utcnow()
    await sweep(now + timedelta(days=13), [ORDER_OVERDUE])
    assert await Alert.count() == 0
    await sweep(now + timedelta(days=15), [ORDER_OVERDUE])
    [alert] = await Alert.select().where(Alert.resolved_at.is_null())
    assert (alert["subject"], alert["severity"]) == (f"order:{order['id']}", "warning")
    assert (
        alert["title"] == f"Order {order['number']} to MedSupply Co sent more than 14 days ago is not all in"
    )
    cancelled = await mgr.post(f"{c['orders']}/{order['id']}/cancel", {"reason": "Supplier out of stock"})
    assert cancelled.status_code == 201, cancelled.text
    await sweep(now + timedelta(days=15, minutes=5), [ORDER_OVERDUE])
    assert await Alert.count().where(Alert.resolved_at.is_null()) == 0
