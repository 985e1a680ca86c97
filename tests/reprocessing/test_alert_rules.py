"""Reprocessing alerts: a device left dirty, the day's sterilization log gaps, an expired HLD solution."""

from __future__ import annotations

from datetime import timedelta

from server.alerts.rules import DEVICE_LEFT_DIRTY, HLD_SOLUTION, STERILIZATION_LOG
from server.alerts.sweep import sweep
from server.alerts.tables import Alert
from server.clock import utcnow
from server.reprocessing.tables import HldSolution
from tests.reprocessing.conftest import As
from tests.reprocessing.test_routes import OK_RESULTS, _clinic, _device, _load, _packaged, _step, _sterilizer


async def _open() -> dict[str, dict[str, object]]:
    return {r["subject"]: r for r in await Alert.select().where(Alert.resolved_at.is_null())}


async def test_a_device_left_dirty_for_hours_is_an_alert_until_cleaned(as_: As) -> None:
    c = await _clinic()
    mgr, asst = await as_("mgr"), await as_("asst")
    device = await _device(mgr, c["base"])
    assert (await _step(asst, c["base"], device["label_code"], "point_of_use")).status_code == 201
    now = utcnow()
    await sweep(now + timedelta(hours=3), [DEVICE_LEFT_DIRTY])
    assert await _open() == {}  # not yet 4 hours
    await sweep(now + timedelta(hours=5), [DEVICE_LEFT_DIRTY])
    alert = (await _open())[f"device:{device['id']}"]
    assert alert["title"] == f"Left dirty for more than 4 hours: {device['name']}"
    assert (await _step(asst, c["base"], device["label_code"], "clean", method="manual")).status_code == 201
    await sweep(now + timedelta(hours=5, minutes=5), [DEVICE_LEFT_DIRTY])
    assert await _open() == {}


async def test_an_unreleased_load_is_a_gap_in_todays_log_until_released(as_: As) -> None:
    c = await _clinic()
    mgr, asst = await as_("mgr"), await as_("asst")
    st = await _sterilizer(mgr, c["base"])
    pack = await _packaged(asst, c["base"], await _device(mgr, c["base"]))
    load = (await _load(asst, c["base"], st, [pack["label_code"]])).json()
    now = utcnow()
    await sweep(now, [STERILIZATION_LOG])
    found = await _open()
    assert f"unreleased_load:load:{load['id']}" in found
    assert str(found[f"unreleased_load:load:{load['id']}"]["title"]).startswith(
        "Sterilization log, Statim A: Load "
    )
    results = dict(OK_RESULTS, bi_lot="BI-7") if load["bi_required"] else dict(OK_RESULTS)
    assert (await asst.post(f"{c['base']}/loads/{load['id']}/results", results)).status_code == 201
    if load["bi_required"]:
        assert (
            await asst.post(f"{c['base']}/loads/{load['id']}/bi", {"result": "negative"})
        ).status_code == 201
    released = await mgr.post(f"{c['base']}/loads/{load['id']}/release")
    assert released.status_code == 201, released.text
    await sweep(now + timedelta(minutes=5), [STERILIZATION_LOG])
    assert f"unreleased_load:load:{load['id']}" not in await _open()


async def test_an_expired_hld_solution_not_discarded_is_an_alert() -> None:
    c = await _clinic()
    today = utcnow().date()
    for product, expires in (
        ("OPA 0.55 %", today - timedelta(days=1)),
        ("Fresh OPA", today + timedelta(days=5)),
    ):
        await HldSolution.insert(
            HldSolution(
                site=c["site"],
                product=product,
                lot="L1",
                activated_on=today - timedelta(days=14),
                expires_on=expires,
                created_by="system",
                created_at=utcnow(),
            )
        )
    await sweep(utcnow(), [HLD_SOLUTION])
    [alert] = (await _open()).values()
    assert alert["title"] == "HLD solution past its reuse life, discard it: OPA 0.55 % lot L1"


async def test_a_site_that_allows_fewer_dirty_hours_hears_sooner(as_: As) -> None:
    c = await _clinic()
    mgr, asst = await as_("mgr"), await as_("asst")
    saved = await mgr.post(f"/api/sites/{c['site']}/alert-delivery/settings", {"dirty_hours": 1})
    assert saved.status_code == 201, saved.text
    device = await _device(mgr, c["base"])
    assert (await _step(asst, c["base"], device["label_code"], "point_of_use")).status_code == 201
    now = utcnow()
    await sweep(now + timedelta(minutes=50), [DEVICE_LEFT_DIRTY])
    assert await _open() == {}
    await sweep(now + timedelta(minutes=70), [DEVICE_LEFT_DIRTY])
    alert = (await _open())[f"device:{device['id']}"]
    assert alert["title"] == f"Left dirty for more than 1 hour: {device['name']}"
