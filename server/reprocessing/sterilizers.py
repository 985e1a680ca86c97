"""Sterilizers: the register, the log book (maintenance, repair, service), Bowie-Dick tests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from server.core import audit
from server.core.auth import Principal
from server.core.rules import new_label_code
from server.core.service import site_zone
from server.db import is_sqlite, write_transaction
from server.errors import NotFound, RuleViolation
from server.reprocessing import rules
from server.reprocessing.rules import BiResult
from server.reprocessing.schemas import (
    BowieDickIn,
    BowieDickRead,
    LogEntryIn,
    LogEntryRead,
    ServiceChange,
    SterilizerCreate,
    SterilizerDetail,
    SterilizerRead,
)
from server.reprocessing.tables import BowieDickTest, Failure, Load, Sterilizer, SterilizerLogEntry


def sterilizer_read(row: dict[str, Any]) -> SterilizerRead:
    return SterilizerRead(
        id=row["id"],
        name=row["name"],
        model=row["model"],
        serial=row["serial"],
        kind=rules.SterilizerKind(row["kind"]),
        cycle_types=[c for c in row["cycle_types"].split(",") if c],
        licence=row["licence"],
        in_service=row["in_service"],
        out_since=row["out_since"],
        label_code=row["label_code"],
    )


async def sterilizer_row(site_id: int, sterilizer_id: int, *, lock: bool = False) -> dict[str, Any]:
    query = Sterilizer.select().where((Sterilizer.id == sterilizer_id) & (Sterilizer.site == site_id))
    if lock and not is_sqlite():
        query = query.lock_rows("NO KEY UPDATE")
    row = await query.first()
    if row is None:
        raise NotFound("This sterilizer does not exist at this site.", code="sterilizer_not_found")
    return row


async def create_sterilizer(
    principal: Principal, site_id: int, data: SterilizerCreate, *, now: datetime
) -> SterilizerRead:
    async with write_transaction():
        cycle_types = list(dict.fromkeys(c.strip() for c in data.cycle_types))
        rows = await Sterilizer.insert(
            Sterilizer(
                site=site_id,
                name=data.name.strip(),
                model=data.model.strip(),
                serial=data.serial.strip(),
                kind=data.kind.value,
                cycle_types=",".join(cycle_types),
                licence=data.licence.strip(),
                in_service=True,
                label_code=new_label_code("sterilizer"),
                created_at=now,
            )
        ).returning(*Sterilizer.all_columns())
        found = sterilizer_read(rows[0])
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.sterilizer.create",
            entity="rp_sterilizer",
            entity_id=found.id,
            payload={
                "name": found.name,
                "model": found.model,
                "serial": found.serial,
                "kind": found.kind.value,
                "cycle_types": cycle_types,
                "licence": found.licence,
            },
            now=now,
        )
    return found


async def list_sterilizers(site_id: int) -> list[SterilizerRead]:
    rows = await Sterilizer.select().where(Sterilizer.site == site_id).order_by(Sterilizer.name)
    return [sterilizer_read(r) for r in rows]


def _log_read(row: dict[str, Any]) -> LogEntryRead:
    return LogEntryRead(
        id=row["id"],
        kind=row["kind"],
        note=row["note"],
        actor=row["actor"],
        actor_name=row["actor_name"],
        at=row["at"],
    )


def _bd_read(row: dict[str, Any]) -> BowieDickRead:
    return BowieDickRead(
        id=row["id"],
        sterilizer_id=row["sterilizer"],
        day=row["day"],
        passed=row["passed"],
        initials=row["initials"],
        actor_name=row["actor_name"],
        at=row["at"],
    )


async def sterilizer_detail(site_id: int, sterilizer_id: int) -> SterilizerDetail:
    row = await sterilizer_row(site_id, sterilizer_id)
    log = (
        await SterilizerLogEntry.select()
        .where(SterilizerLogEntry.sterilizer == sterilizer_id)
        .order_by(SterilizerLogEntry.at)
    )
    bd = (
        await BowieDickTest.select()
        .where(BowieDickTest.sterilizer == sterilizer_id)
        .order_by(BowieDickTest.at)
    )
    return SterilizerDetail(
        sterilizer=sterilizer_read(row), log=[_log_read(r) for r in log], bowie_dick=[_bd_read(r) for r in bd]
    )


async def write_log(
    site_id: int, sterilizer_id: int, kind: str, note: str, principal: Principal, now: datetime
) -> LogEntryRead:
    rows = await SterilizerLogEntry.insert(
        SterilizerLogEntry(
            site=site_id,
            sterilizer=sterilizer_id,
            kind=kind,
            note=note,
            actor=principal.actor,
            actor_name=principal.display_name,
            at=now,
        )
    ).returning(*SterilizerLogEntry.all_columns())
    entry = _log_read(rows[0])
    await audit.append(
        actor=principal.actor,
        site_id=site_id,
        action=f"reprocessing.sterilizer.{kind}",
        entity="rp_sterilizer",
        entity_id=sterilizer_id,
        payload={"log_id": entry.id, "note": note},
        now=now,
    )
    return entry


async def add_log(
    principal: Principal, site_id: int, sterilizer_id: int, data: LogEntryIn, *, now: datetime
) -> LogEntryRead:
    async with write_transaction():
        await sterilizer_row(site_id, sterilizer_id, lock=True)
        return await write_log(site_id, sterilizer_id, data.kind, data.note.strip(), principal, now)


async def take_out_of_service(
    site_id: int, sterilizer_id: int, note: str, principal: Principal, now: datetime
) -> None:
    """Inside the caller's transaction (also used by a positive BI)."""
    row = await sterilizer_row(site_id, sterilizer_id, lock=True)
    if row["in_service"]:
        await Sterilizer.update({Sterilizer.in_service: False, Sterilizer.out_since: now}).where(
            Sterilizer.id == sterilizer_id
        )
    await write_log(site_id, sterilizer_id, "out_of_service", note, principal, now)


async def out_of_service(
    principal: Principal, site_id: int, sterilizer_id: int, data: ServiceChange, *, now: datetime
) -> SterilizerRead:
    async with write_transaction():
        await take_out_of_service(site_id, sterilizer_id, data.note.strip(), principal, now)
        return sterilizer_read(await sterilizer_row(site_id, sterilizer_id))


async def back_in_service(
    principal: Principal, site_id: int, sterilizer_id: int, data: ServiceChange, *, now: datetime
) -> SterilizerRead:
    """After a positive BI, only with 3 consecutive negative BIs since it went out of service."""
    async with write_transaction():
        row = await sterilizer_row(site_id, sterilizer_id, lock=True)
        if row["in_service"]:
            raise RuleViolation("This sterilizer is already in service.", code="already_in_service")
        positive = await Failure.exists().where(
            (Failure.sterilizer == sterilizer_id)
            & (Failure.kind == "bi_positive")
            & (Failure.opened_at >= row["out_since"])
        )
        if positive:
            results = (
                await Load.select(Load.bi_result)
                .where((Load.sterilizer == sterilizer_id) & (Load.started_at >= row["out_since"]))
                .order_by(Load.started_at)
                .order_by(Load.id)
            )
            if not rules.may_return_to_service([BiResult(r["bi_result"]) for r in results]):
                raise RuleViolation(
                    "After a positive BI the sterilizer goes back in service only after "
                    f"{rules.CONSECUTIVE_NEGATIVES} consecutive negative BI tests.",
                    code="three_negative_bis_needed",
                )
        await Sterilizer.update({Sterilizer.in_service: True, Sterilizer.out_since: None}).where(
            Sterilizer.id == sterilizer_id
        )
        await write_log(site_id, sterilizer_id, "in_service", data.note.strip(), principal, now)
        return sterilizer_read(await sterilizer_row(site_id, sterilizer_id))


async def local_day(site_id: int, at: datetime) -> date:
    return at.astimezone(await site_zone(site_id)).date()


async def record_bowie_dick(
    principal: Principal, site_id: int, sterilizer_id: int, data: BowieDickIn, *, now: datetime
) -> BowieDickRead:
    async with write_transaction():
        row = await sterilizer_row(site_id, sterilizer_id, lock=True)
        if row["kind"] != rules.SterilizerKind.PRE_VACUUM.value:
            raise RuleViolation("The Bowie-Dick test is for pre-vacuum sterilizers.", code="not_pre_vacuum")
        day = await local_day(site_id, now)
        rows = await BowieDickTest.insert(
            BowieDickTest(
                site=site_id,
                sterilizer=sterilizer_id,
                day=day,
                passed=data.passed,
                actor=principal.actor,
                actor_name=principal.display_name,
                initials=data.initials.upper(),
                at=now,
            )
        ).returning(*BowieDickTest.all_columns())
        test = _bd_read(rows[0])
        if not data.passed:
            await Failure.insert(
                Failure(
                    site=site_id,
                    sterilizer=sterilizer_id,
                    kind="bowie_dick",
                    detail="The Bowie-Dick (air removal) test failed: no loads until a test passes.",
                    opened_at=now,
                    opened_by=principal.actor,
                )
            )
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.bowie_dick",
            entity="rp_sterilizer",
            entity_id=sterilizer_id,
            payload={
                "test_id": test.id,
                "day": day.isoformat(),
                "passed": data.passed,
                "initials": test.initials,
            },
            now=now,
        )
    return test


async def bowie_dick_passed(sterilizer_id: int, day: date) -> bool:
    """The latest test of the day passed (a failed retest after a pass blocks again)."""
    last = (
        await BowieDickTest.select(BowieDickTest.passed)
        .where((BowieDickTest.sterilizer == sterilizer_id) & (BowieDickTest.day == day))
        .order_by(BowieDickTest.at, ascending=False)
        .order_by(BowieDickTest.id, ascending=False)
        .first()
    )
    return bool(last and last["passed"])
