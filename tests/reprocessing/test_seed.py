"""The demo clinic's reprocessing: a sterilizer with today's Bowie-Dick, devices and sets, a released
load, an implant load held for its BI, a pack waiting for a load, an HLD solution tested; a rerun adds
nothing."""

from __future__ import annotations

from server.clock import utcnow
from server.core.tables import AuditEvent
from server.reprocessing import review
from server.reprocessing.tables import (
    BowieDickTest,
    Device,
    HldSolution,
    Load,
    MecTest,
    Pack,
    Step,
    Sterilizer,
)
from server.seed import seed


async def test_the_demo_clinic_has_reprocessing_and_a_rerun_adds_nothing() -> None:
    [clinic] = await seed("demo", now=utcnow())
    site = clinic.site_id
    assert await Sterilizer.count().where(Sterilizer.site == site) == 1
    assert await BowieDickTest.count() == 1
    loads = await Load.select(Load.status, Load.implant, Load.bi_result).order_by(Load.id)
    assert [(x["status"], x["implant"], x["bi_result"]) for x in loads] == [
        ("released", False, "negative"),
        ("held", True, "pending"),
    ]
    packs = {p["status"] for p in await Pack.select(Pack.status)}
    assert packs == {"sterile", "loaded", "packaged"}
    assert await Device.count().where(Device.single_use.eq(True)) == 1
    assert await HldSolution.count() == 1 and await MecTest.count() == 1
    first = await Load.select(Load.day).first()
    assert first is not None
    missing = await review.missing(site, first["day"])
    assert [m.code for m in missing.items] == ["unreleased_load", "bi_unread"]
    counts = [await t.count() for t in (Sterilizer, Device, Load, Pack, Step, HldSolution, AuditEvent)]
    [again] = await seed("demo", now=utcnow())
    assert [
        await t.count() for t in (Sterilizer, Device, Load, Pack, Step, HldSolution, AuditEvent)
    ] == counts
    assert again.created == 0
