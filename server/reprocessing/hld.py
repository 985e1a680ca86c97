"""High-level disinfection: solutions, minimum effective concentration (MEC) tests, the HLD log.

A failed or missing MEC test (one before each use), expired strips, or a solution past its reuse
life or discarded block the disinfection step (domain.md §1, HLD).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Max

from server.core import audit
from server.core.auth import Principal
from server.core.tables import Site
from server.db import is_sqlite, write_transaction
from server.errors import Conflict, InvalidInput, NotFound, RuleViolation
from server.reprocessing import rules
from server.reprocessing.schemas import (
    MecTestIn,
    MecTestRead,
    SolutionCreate,
    SolutionRead,
    StepIn,
)
from server.reprocessing.tables import HldRecord, HldSolution, MecTest


async def _today(site_id: int, now: datetime) -> date:
    row = await Site.select(Site.timezone).where(Site.id == site_id).first()
    if row is None:
        raise NotFound("This site does not exist.", code="site_not_found")
    return now.astimezone(ZoneInfo(row["timezone"])).date()


def _as_datetime(value: Any) -> datetime | None:
    # Aggregates come back as text on SQLite.
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def solution_read(row: dict[str, Any]) -> SolutionRead:
    return SolutionRead(
        id=row["id"],
        product=row["product"],
        lot=row["lot"],
        activated_on=row["activated_on"],
        expires_on=row["expires_on"],
        discarded_at=row["discarded_at"],
    )


async def solution_row(site_id: int, solution_id: int, *, lock: bool = False) -> dict[str, Any]:
    query = HldSolution.select().where((HldSolution.id == solution_id) & (HldSolution.site == site_id))
    if lock and not is_sqlite():
        query = query.lock_rows("NO KEY UPDATE")
    row = await query.first()
    if row is None:
        raise NotFound("This solution does not exist at this site.", code="solution_not_found")
    return row


async def create_solution(
    principal: Principal, site_id: int, data: SolutionCreate, *, now: datetime
) -> SolutionRead:
    today = await _today(site_id, now)
    if data.activated_on > today:
        raise InvalidInput("The activation date is in the future.", code="date_in_future")
    expires_on = data.activated_on + timedelta(days=data.reuse_life_days)
    async with write_transaction():
        rows = await HldSolution.insert(
            HldSolution(
                site=site_id,
                product=data.product.strip(),
                lot=data.lot.strip(),
                activated_on=data.activated_on,
                expires_on=expires_on,
                created_by=principal.actor,
                created_at=now,
            )
        ).returning(*HldSolution.all_columns())
        found = solution_read(rows[0])
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.hld.solution",
            entity="rp_hld_solution",
            entity_id=found.id,
            payload={
                "product": found.product,
                "lot": found.lot,
                "activated_on": found.activated_on.isoformat(),
                "expires_on": expires_on.isoformat(),
            },
            now=now,
        )
    return found


async def discard(principal: Principal, site_id: int, solution_id: int, *, now: datetime) -> SolutionRead:
    async with write_transaction():
        row = await solution_row(site_id, solution_id, lock=True)
        if row["discarded_at"] is not None:
            raise Conflict("This solution is already discarded.", code="already_discarded")
        await HldSolution.update({HldSolution.discarded_at: now}).where(HldSolution.id == solution_id)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.hld.discard",
            entity="rp_hld_solution",
            entity_id=solution_id,
            payload={},
            now=now,
        )
        return solution_read(await solution_row(site_id, solution_id))


async def list_solutions(site_id: int) -> list[SolutionRead]:
    rows = (
        await HldSolution.select()
        .where(HldSolution.site == site_id)
        .order_by(HldSolution.id, ascending=False)
    )
    return [solution_read(r) for r in rows]


async def record_mec(
    principal: Principal, site_id: int, solution_id: int, data: MecTestIn, *, now: datetime
) -> MecTestRead:
    async with write_transaction():
        row = await solution_row(site_id, solution_id, lock=True)
        if row["discarded_at"] is not None:
            raise RuleViolation("This solution was discarded.", code="solution_discarded")
        rows = await MecTest.insert(
            MecTest(
                site=site_id,
                solution=solution_id,
                passed=data.passed,
                strip_lot=data.strip_lot.strip(),
                strip_expires_on=data.strip_expires_on,
                actor=principal.actor,
                actor_name=principal.display_name,
                tested_at=now,
            )
        ).returning(*MecTest.all_columns())
        test = _mec_read(rows[0])
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.hld.mec_test",
            entity="rp_hld_solution",
            entity_id=solution_id,
            payload={
                "test_id": test.id,
                "passed": data.passed,
                "strip_lot": test.strip_lot,
                "strip_expires_on": data.strip_expires_on.isoformat(),
            },
            now=now,
        )
    return test


def _mec_read(row: dict[str, Any]) -> MecTestRead:
    return MecTestRead(
        id=row["id"],
        solution_id=row["solution"],
        passed=row["passed"],
        strip_lot=row["strip_lot"],
        strip_expires_on=row["strip_expires_on"],
        actor_name=row["actor_name"],
        tested_at=row["tested_at"],
    )


async def check(site_id: int, data: StepIn, *, now: datetime) -> tuple[int, int]:
    """Before a high-level disinfection: the solution and its MEC test (ids), or why not."""
    if data.solution_id is None or data.soak_minutes is None or not data.temperature_c:
        raise InvalidInput(
            "High-level disinfection needs the solution, the soak time and the temperature.",
            code="hld_fields_required",
            fields=[
                {"field": name, "message": "Required for high-level disinfection."}
                for name, value in (
                    ("solution_id", data.solution_id),
                    ("soak_minutes", data.soak_minutes),
                    ("temperature_c", data.temperature_c),
                )
                if not value
            ],
        )
    solution = await solution_row(site_id, data.solution_id, lock=True)
    test = (
        await MecTest.select()
        .where(MecTest.solution == solution["id"])
        .order_by(MecTest.tested_at, ascending=False)
        .order_by(MecTest.id, ascending=False)
        .first()
    )
    used = (
        await HldRecord.select(Max(HldRecord.at, alias="at"))
        .where(HldRecord.solution == solution["id"])
        .first()
    )
    problems = rules.hld_problems(
        expires_on=solution["expires_on"],
        discarded=solution["discarded_at"] is not None,
        today=await _today(site_id, now),
        last_test=rules.MecFacts(test["passed"], test["strip_expires_on"], test["tested_at"])
        if test
        else None,
        last_use_at=_as_datetime(used["at"]) if used else None,
    )
    if problems or test is None:
        raise RuleViolation(" ".join(p.reason for p in problems), code=problems[0].code)
    return int(solution["id"]), int(test["id"])


async def record(
    site_id: int,
    device_id: int,
    step_id: int,
    ids: tuple[int, int],
    data: StepIn,
    principal: Principal,
    now: datetime,
) -> None:
    await HldRecord.insert(
        HldRecord(
            site=site_id,
            device=device_id,
            step=step_id,
            solution=ids[0],
            mec_test=ids[1],
            soak_minutes=data.soak_minutes or 0,
            temperature_c=data.temperature_c or "",
            actor=principal.actor,
            actor_name=principal.display_name,
            at=now,
        )
    )
