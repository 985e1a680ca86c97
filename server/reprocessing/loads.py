"""Sterilizer loads: contents, results, BI reading, release, and the recall a positive BI starts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from piccolo.query.functions.aggregate import Count

from server.core import audit
from server.core.auth import Principal
from server.db import is_sqlite, write_transaction
from server.errors import Conflict, InvalidInput, NotFound, RuleViolation
from server.reprocessing import rules
from server.reprocessing.devices import device_row, get_settings, set_device_status
from server.reprocessing.rules import BiResult, LoadFacts, LoadStatus, Status, StepKind
from server.reprocessing.schemas import (
    BiIn,
    CloseIn,
    FailureDetail,
    FailureRead,
    LoadCorrectionRead,
    LoadCreate,
    LoadDetail,
    LoadRead,
    PackRead,
    PacksIn,
    PhuIn,
    RecalledPack,
    ResultsIn,
    UseRead,
)
from server.reprocessing.sterilizers import bowie_dick_passed, local_day, sterilizer_row, take_out_of_service
from server.reprocessing.tables import Failure, Load, LoadCorrection, Pack, RecallPack, Sterilizer, Use


def facts(row: dict[str, Any], pack_count: int) -> LoadFacts:
    return LoadFacts(
        implant=row["implant"],
        bi_required=row["bi_required"],
        physical_met=row["physical_met"],
        external_ci=row["external_ci"],
        internal_ci=row["internal_ci"],
        bi_result=BiResult(row["bi_result"]),
        has_packs=pack_count > 0 or row["purpose"] == "bi_test",
    )


def load_read(
    row: dict[str, Any], sterilizer_name: str, pack_count: int, release_before_bi: bool, corrections: int = 0
) -> LoadRead:
    problems = []
    if row["status"] in (LoadStatus.OPEN.value, LoadStatus.HELD.value):
        problems = [
            p.reason
            for p in rules.release_problems(facts(row, pack_count), release_before_bi=release_before_bi)
        ]
    return LoadRead(
        id=row["id"],
        sterilizer_id=row["sterilizer"],
        sterilizer_name=sterilizer_name,
        day=row["day"],
        load_number=row["load_number"],
        started_at=row["started_at"],
        cycle_type=row["cycle_type"],
        purpose=row["purpose"],
        implant=row["implant"],
        bi_required=row["bi_required"],
        status=LoadStatus(row["status"]),
        physical_met=row["physical_met"],
        temperature_c=row["temperature_c"],
        minutes=row["minutes"],
        pressure_kpa=row["pressure_kpa"],
        printout=row["printout"],
        external_ci=row["external_ci"],
        internal_ci=row["internal_ci"],
        bi_lot=row["bi_lot"],
        bi_result=BiResult(row["bi_result"]),
        bi_read_at=row["bi_read_at"],
        operator_name=row["operator_name"],
        operator_initials=row["operator_initials"],
        releaser_name=row["releaser_name"],
        released_at=row["released_at"],
        comment=row["comment"],
        pack_count=pack_count,
        release_problems=problems,
        corrections=corrections,
    )


async def pack_counts(load_ids: list[int]) -> dict[int, int]:
    if not load_ids:
        return {}
    rows = (
        await Pack.select(Pack.load, Count(Pack.id, alias="n"))
        .where(Pack.load.is_in(load_ids))
        .group_by(Pack.load)
    )
    return {int(r["load"]): int(r["n"]) for r in rows}


async def read_loads(site_id: int, rows: list[dict[str, Any]]) -> list[LoadRead]:
    settings = await get_settings(site_id)
    names = {
        r["id"]: r["name"]
        for r in await Sterilizer.select(Sterilizer.id, Sterilizer.name).where(Sterilizer.site == site_id)
    }
    ids = [r["id"] for r in rows]
    counts = await pack_counts(ids)
    fixes = await correction_counts(ids)
    return [
        load_read(
            r,
            names.get(r["sterilizer"], ""),
            counts.get(r["id"], 0),
            settings.release_before_bi,
            fixes.get(r["id"], 0),
        )
        for r in rows
    ]


async def correction_counts(load_ids: list[int]) -> dict[int, int]:
    if not load_ids:
        return {}
    rows = (
        await LoadCorrection.select(LoadCorrection.load, Count(LoadCorrection.id, alias="n"))
        .where(LoadCorrection.load.is_in(load_ids))
        .group_by(LoadCorrection.load)
    )
    return {int(r["load"]): int(r["n"]) for r in rows}


async def load_row(site_id: int, load_id: int, *, lock: bool = False) -> dict[str, Any]:
    query = Load.select().where((Load.id == load_id) & (Load.site == site_id))
    row = await query.first()
    if row is None:
        raise NotFound("This load does not exist at this site.", code="load_not_found")
    if lock:  # the sterilizer's row lock serializes writes to its loads
        await sterilizer_row(site_id, row["sterilizer"], lock=True)
        row = await query.first()
        if row is None:
            raise NotFound("This load does not exist at this site.", code="load_not_found")
    return row


async def get_load(site_id: int, load_id: int) -> LoadRead:
    return (await read_loads(site_id, [await load_row(site_id, load_id)]))[0]


async def _add_packs(site_id: int, load: dict[str, Any], codes: list[str]) -> list[int]:
    wanted = list(dict.fromkeys(c.strip().upper() for c in codes))
    if not wanted:
        return []
    query = Pack.select().where((Pack.site == site_id) & Pack.label_code.is_in(wanted)).order_by(Pack.id)
    if not is_sqlite():  # two loads racing for one pack: the second waits, then sees it taken
        query = query.lock_rows("NO KEY UPDATE")
    rows = await query
    by_code = {r["label_code"]: r for r in rows}
    unknown = [c for c in wanted if c not in by_code]
    if unknown:
        raise InvalidInput(
            "These labels are not packs at this site: " + ", ".join(unknown),
            code="pack_not_found",
            fields=[{"field": "packs", "message": "Unknown pack label."}],
        )
    for code in wanted:
        pack = by_code[code]
        if pack["load"] is not None or pack["status"] != "packaged":
            raise RuleViolation(
                f"Pack {code} is already in a load or was processed.", code="pack_not_packaged"
            )
        device = await device_row(site_id, pack["device"])
        if device["status"] != Status.PACKAGED.value:
            raise RuleViolation(f"Pack {code}: its device is not packaged.", code="pack_not_packaged")
    ids = [by_code[c]["id"] for c in wanted]
    await Pack.update({Pack.load: load["id"], Pack.status: "loaded"}).where(Pack.id.is_in(ids))
    return ids


async def create_load(principal: Principal, site_id: int, data: LoadCreate, *, now: datetime) -> LoadRead:
    async with write_transaction():
        sterilizer = await sterilizer_row(site_id, data.sterilizer_id, lock=True)
        settings = await get_settings(site_id)
        cycle_types = sterilizer["cycle_types"].split(",")
        if data.cycle_type not in cycle_types:
            raise InvalidInput(
                f"This sterilizer's cycle types are: {', '.join(cycle_types)}.",
                code="unknown_cycle_type",
                fields=[{"field": "cycle_type", "message": "Not a cycle type of this sterilizer."}],
            )
        if data.purpose == "load" and not sterilizer["in_service"]:
            raise RuleViolation(
                "This sterilizer is out of service: only BI test cycles can be run.",
                code="sterilizer_out_of_service",
            )
        if data.purpose == "bi_test" and data.packs:
            raise InvalidInput("A BI test cycle has no packs.", code="bi_test_with_packs")
        day = await local_day(site_id, now)
        if rules.bowie_dick_missing(
            rules.SterilizerKind(sterilizer["kind"]),
            passed_today=await bowie_dick_passed(sterilizer["id"], day),
            required=settings.bowie_dick_daily,
            purpose=data.purpose,
        ):
            raise RuleViolation(
                "Run and record today's Bowie-Dick test (empty chamber) before the first load.",
                code="bowie_dick_missing",
            )
        today = await Load.select(Load.cycle_type, Load.load_number).where(
            (Load.sterilizer == sterilizer["id"]) & (Load.day == day)
        )
        required = data.purpose == "bi_test" or rules.bi_required(
            implant=data.implant,
            cycle_type=data.cycle_type,
            earlier_cycle_types_today=[r["cycle_type"] for r in today],
            first_load_per_cycle_type=settings.bi_first_load_per_cycle_type,
        )
        rows = await Load.insert(
            Load(
                site=site_id,
                sterilizer=sterilizer["id"],
                day=day,
                load_number=max((r["load_number"] for r in today), default=0) + 1,
                started_at=now,
                cycle_type=data.cycle_type,
                purpose=data.purpose,
                implant=data.implant,
                bi_required=required,
                status=LoadStatus.OPEN.value,
                operator=principal.actor,
                operator_name=principal.display_name,
                operator_initials=data.initials.upper(),
                comment=data.comment,
            )
        ).returning(*Load.all_columns())
        load = rows[0]
        pack_ids = await _add_packs(site_id, load, data.packs)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.load.create",
            entity="rp_load",
            entity_id=load["id"],
            payload={
                "sterilizer_id": sterilizer["id"],
                "day": day.isoformat(),
                "load_number": load["load_number"],
                "cycle_type": data.cycle_type,
                "purpose": data.purpose,
                "implant": data.implant,
                "bi_required": required,
                "pack_ids": pack_ids,
            },
            now=now,
        )
    return await get_load(site_id, load["id"])


def _must_be_open(load: dict[str, Any]) -> None:
    if load["results_at"] is not None or load["status"] != LoadStatus.OPEN.value:
        raise Conflict(
            "This load's results are already recorded: its contents cannot change.", code="load_closed"
        )


async def add_packs(
    principal: Principal, site_id: int, load_id: int, data: PacksIn, *, now: datetime
) -> LoadRead:
    async with write_transaction():
        load = await load_row(site_id, load_id, lock=True)
        _must_be_open(load)
        if load["purpose"] == "bi_test":
            raise InvalidInput("A BI test cycle has no packs.", code="bi_test_with_packs")
        ids = await _add_packs(site_id, load, data.packs)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.load.packs",
            entity="rp_load",
            entity_id=load_id,
            payload={"pack_ids": ids},
            now=now,
        )
    return await get_load(site_id, load_id)


async def open_failures(
    site_id: int, load: dict[str, Any], kinds: list[str], principal: Principal, now: datetime
) -> int | None:
    first = None
    for kind in kinds:
        rows = await Failure.insert(
            Failure(
                site=site_id,
                sterilizer=load["sterilizer"],
                load=load["id"],
                kind=kind,
                detail=_FAILURE_WORDS[kind],
                opened_at=now,
                opened_by=principal.actor,
            )
        ).returning(Failure.id)
        first = first or int(rows[0]["id"])
    return first


_FAILURE_WORDS = {
    "physical": "Time, temperature or pressure was not met.",
    "chemical_indicator": "A chemical indicator failed.",
    "bi_positive": "The biological indicator read positive.",
}


async def reprocess_packs(site_id: int, load_id: int, principal: Principal, now: datetime) -> None:
    """A load that failed before release: its packs go back to be reprocessed (devices dirty)."""
    packs = await Pack.select().where(Pack.load == load_id)
    for pack in packs:
        await Pack.update({Pack.status: "reprocess"}).where(Pack.id == pack["id"])
        device = await device_row(site_id, pack["device"])
        if device["status"] == Status.PACKAGED.value:
            await set_device_status(
                site_id,
                pack["device"],
                StepKind.RETURN,
                Status.DIRTY,
                "load failed: reprocess",
                principal,
                now,
                pack_id=pack["id"],
                load_id=load_id,
            )


async def record_results(
    principal: Principal, site_id: int, load_id: int, data: ResultsIn, *, now: datetime
) -> LoadRead:
    async with write_transaction():
        load = await load_row(site_id, load_id, lock=True)
        _must_be_open(load)
        if load["bi_required"] and not data.bi_lot.strip():
            raise InvalidInput(
                "This load needs a biological indicator: give the BI lot.",
                code="bi_missing",
                fields=[{"field": "bi_lot", "message": "Required for this load."}],
            )
        values = {
            "physical_met": data.physical_met,
            "temperature_c": data.temperature_c.strip(),
            "minutes": data.minutes.strip(),
            "pressure_kpa": data.pressure_kpa.strip(),
            "printout": data.printout.strip(),
            "external_ci": data.external_ci,
            "internal_ci": data.internal_ci,
            "bi_lot": data.bi_lot.strip(),
            "bi_result": BiResult.PENDING.value if data.bi_lot.strip() else "",
        }
        load.update(values)
        settings = await get_settings(site_id)
        count = (await pack_counts([load_id])).get(load_id, 0)
        status = rules.load_status(facts(load, count), release_before_bi=settings.release_before_bi)
        comment = (load["comment"] + "\n" + data.comment).strip() if data.comment else load["comment"]
        await Load.update(
            {**values, "status": status.value, "results_at": now, "comment": comment}  # type: ignore[dict-item]
        ).where(Load.id == load_id)
        failed = rules.failures(facts(load, count))
        if failed:
            await open_failures(site_id, load, failed, principal, now)
            await reprocess_packs(site_id, load_id, principal, now)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.load.results",
            entity="rp_load",
            entity_id=load_id,
            payload={**values, "status": status.value, "failures": failed},
            now=now,
        )
    return await get_load(site_id, load_id)


async def record_bi(
    principal: Principal, site_id: int, load_id: int, data: BiIn, *, now: datetime
) -> LoadRead:
    """The BI read: negative may let a held load be released; positive recalls (domain.md §1)."""
    read_at = data.read_at or now
    if read_at.tzinfo is None:
        raise InvalidInput("Give the read time with its offset.", code="time_without_offset")
    if read_at > now:
        raise InvalidInput("The read time is in the future.", code="time_in_future")
    async with write_transaction():
        load = await load_row(site_id, load_id, lock=True)
        if load["bi_result"] != BiResult.PENDING.value:
            raise Conflict(
                "This load has no BI waiting to be read."
                if not load["bi_result"]
                else "This BI is already read.",
                code="bi_not_pending",
            )
        result = BiResult(data.result)
        values: dict[str, Any] = {
            "bi_result": result.value,
            "bi_read_at": read_at,
            "bi_read_by": principal.actor,
        }
        failure_id = None
        if result is BiResult.POSITIVE:
            if load["status"] != LoadStatus.RELEASED.value:
                values["status"] = LoadStatus.FAILED.value
            await Load.update(values).where(Load.id == load_id)  # type: ignore[arg-type]
            failure_id = await recall(site_id, load, principal, now)
        else:
            if load["purpose"] == "bi_test":  # an empty challenge cycle: a negative BI passes the test
                values["status"] = LoadStatus.TEST_PASSED.value
            elif load["status"] == LoadStatus.HELD.value:
                values["status"] = LoadStatus.OPEN.value
            await Load.update(values).where(Load.id == load_id)  # type: ignore[arg-type]
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.load.bi",
            entity="rp_load",
            entity_id=load_id,
            payload={"result": result.value, "read_at": read_at.isoformat(), "failure_id": failure_id},
            now=now,
        )
    return await get_load(site_id, load_id)


async def recall(site_id: int, load: dict[str, Any], principal: Principal, now: datetime) -> int:
    """Positive BI: the sterilizer out of service; every load since its last negative BI recalled;
    their packs quarantined wherever they are; the visits they went to listed on the failure."""
    sterilizer_id = load["sterilizer"]
    await take_out_of_service(site_id, sterilizer_id, f"Positive BI on load {load['id']}.", principal, now)
    failure_id = await open_failures(site_id, load, ["bi_positive"], principal, now) or 0
    runs = await Load.select(Load.id, Load.started_at, Load.bi_result).where(Load.sterilizer == sterilizer_id)
    ids = rules.recall_loads(
        [rules.LoadRun(r["id"], r["started_at"], BiResult(r["bi_result"])) for r in runs], load["id"]
    )
    await Load.update({Load.status: LoadStatus.FAILED.value}).where(
        Load.id.is_in(ids) & (Load.status != LoadStatus.FAILED.value)
    )
    await recall_packs(site_id, failure_id, ids, principal, now)
    return failure_id


async def recall_packs(
    site_id: int, failure_id: int, load_ids: list[int], principal: Principal, now: datetime
) -> None:
    """Each pack of these loads recalled (where it was kept on the recall row); a device whose current
    pack it is goes to quarantine."""
    packs = await Pack.select().where(Pack.load.is_in(load_ids)).order_by(Pack.id) if load_ids else []
    for pack in packs:
        await RecallPack.insert(
            RecallPack(
                site=site_id,
                failure=failure_id,
                pack=pack["id"],
                load=pack["load"],
                status_before=pack["status"],
            )
        )
        if pack["status"] in ("recalled", "reprocess"):
            continue
        await Pack.update({Pack.status: "recalled"}).where(Pack.id == pack["id"])
        device = await device_row(site_id, pack["device"])
        latest = (
            await Pack.select(Pack.id)
            .where(Pack.device == pack["device"])
            .order_by(Pack.id, ascending=False)
            .first()
        )
        # The device itself is quarantined while this pack is still its current one (not used and
        # reprocessed since): packaged, sterilized or stored.
        if (
            latest
            and latest["id"] == pack["id"]
            and device["status"]
            in (
                Status.PACKAGED.value,
                Status.STERILIZED.value,
                Status.STORED.value,
            )
        ):
            await set_device_status(
                site_id,
                pack["device"],
                StepKind.QUARANTINE,
                Status.QUARANTINED,
                f"recalled: failure {failure_id}",
                principal,
                now,
                pack_id=pack["id"],
                load_id=pack["load"],
            )


async def release(principal: Principal, site_id: int, load_id: int, *, now: datetime) -> LoadRead:
    async with write_transaction():
        load = await load_row(site_id, load_id, lock=True)
        if load["status"] == LoadStatus.RELEASED.value:
            raise Conflict("This load is already released.", code="already_released")
        if load["status"] == LoadStatus.FAILED.value:
            raise RuleViolation("This load failed: its packs must be reprocessed.", code="load_failed")
        settings = await get_settings(site_id)
        count = (await pack_counts([load_id])).get(load_id, 0)
        if load["purpose"] == "bi_test":
            raise RuleViolation("A BI test cycle has nothing to release.", code="bi_test_no_release")
        problems = rules.release_problems(facts(load, count), release_before_bi=settings.release_before_bi)
        if problems:
            raise RuleViolation(
                "This load cannot be released: " + " ".join(p.reason for p in problems),
                code=problems[0].code,
            )
        await Load.update(
            {
                Load.status: LoadStatus.RELEASED.value,
                Load.releaser: principal.actor,
                Load.releaser_name: principal.display_name,
                Load.released_at: now,
            }
        ).where(Load.id == load_id)
        packs = await Pack.select().where(Pack.load == load_id)
        await Pack.update({Pack.status: "sterile"}).where(Pack.load == load_id)
        for pack in packs:
            await set_device_status(
                site_id,
                pack["device"],
                StepKind.STERILIZE,
                Status.STERILIZED,
                f"load {load_id} released",
                principal,
                now,
                pack_id=pack["id"],
                load_id=load_id,
            )
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.load.release",
            entity="rp_load",
            entity_id=load_id,
            payload={"pack_ids": [p["id"] for p in packs]},
            now=now,
        )
    return await get_load(site_id, load_id)


def use_read(row: dict[str, Any], *, corrected: bool = False) -> UseRead:
    return UseRead(
        id=row["id"],
        device_id=row["device"],
        pack_id=row["pack"],
        load_id=row["load"],
        visit_code=row["visit_code"],
        at=row["at"],
        corrects=row["corrects"],
        corrected=corrected,
    )


async def corrected_uses(use_ids: list[int]) -> set[int]:
    """Which of these uses a later use corrected (a wrong visit code)."""
    if not use_ids:
        return set()
    rows = await Use.select(Use.corrects).where(Use.corrects.is_in(use_ids))
    return {int(r["corrects"]) for r in rows}


async def load_detail(site_id: int, load_id: int) -> LoadDetail:
    load = await get_load(site_id, load_id)
    packs = (
        await Pack.select(*Pack.all_columns(), Pack.device.name.as_alias("device_name"))
        .where(Pack.load == load_id)
        .order_by(Pack.id)
    )
    uses = await Use.select().where(Use.load == load_id).order_by(Use.at)
    corrected = await corrected_uses([u["id"] for u in uses])
    failure = await Failure.select(Failure.id).where(Failure.load == load_id).order_by(Failure.id).first()
    fixes = (
        await LoadCorrection.select()
        .where(LoadCorrection.load == load_id)
        .order_by(LoadCorrection.at)
        .order_by(LoadCorrection.id)
    )
    return LoadDetail(
        load=load,
        packs=[_pack(p) for p in packs],
        uses=[use_read(u, corrected=u["id"] in corrected) for u in uses],
        failure_id=failure["id"] if failure else None,
        corrections=[correction_read(r) for r in fixes],
    )


def correction_read(row: dict[str, Any]) -> LoadCorrectionRead:
    return LoadCorrectionRead(
        id=row["id"],
        load_id=row["load"],
        before=json.loads(row["before"]),
        after=json.loads(row["after"]),
        status_before=LoadStatus(row["status_before"]),
        status_after=LoadStatus(row["status_after"]),
        failures=[k for k in row["failures"].split(",") if k],
        reason=row["reason"],
        actor_name=row["actor_name"],
        at=row["at"],
    )


def _pack(row: dict[str, Any]) -> PackRead:
    return PackRead(
        id=row["id"],
        device_id=row["device"],
        device_name=row["device_name"],
        load_id=row["load"],
        label_code=row["label_code"],
        status=row["status"],
        initials=row["initials"],
        packaged_at=row["packaged_at"],
    )


# --- failures -------------------------------------------------------------------------------------


def failure_read(row: dict[str, Any]) -> FailureRead:
    return FailureRead(
        id=row["id"],
        sterilizer_id=row["sterilizer"],
        load_id=row["load"],
        kind=row["kind"],
        detail=row["detail"],
        opened_at=row["opened_at"],
        phu_notified_at=row["phu_notified_at"],
        phu_contact=row["phu_contact"],
        closed_at=row["closed_at"],
        report=row["report"],
    )


async def list_failures(
    site_id: int,
    *,
    sterilizer_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    open_only: bool | None = None,
) -> list[FailureRead]:
    """Newest first. Failures are few (a handful a year at a clinic): one list, no pages."""
    where: Any = Failure.site == site_id
    if sterilizer_id is not None:
        where &= Failure.sterilizer == sterilizer_id
    if start is not None:
        where &= Failure.opened_at >= start
    if end is not None:
        where &= Failure.opened_at < end
    if open_only is not None:
        where &= Failure.closed_at.is_null() if open_only else Failure.closed_at.is_not_null()
    rows = await Failure.select().where(where).order_by(Failure.opened_at, ascending=False)
    return [failure_read(r) for r in rows]


async def _failure_row(site_id: int, failure_id: int) -> dict[str, Any]:
    row = await Failure.select().where((Failure.id == failure_id) & (Failure.site == site_id)).first()
    if row is None:
        raise NotFound("This failure record does not exist at this site.", code="failure_not_found")
    return row


async def failure_detail(site_id: int, failure_id: int) -> FailureDetail:
    """The recall: every pack, where it was when recalled, and the visits it went to (for follow-up)."""
    row = await _failure_row(site_id, failure_id)
    recalled = (
        await RecallPack.select(
            RecallPack.pack,
            RecallPack.load,
            RecallPack.status_before,
            RecallPack.pack._.label_code.as_alias("label_code"),
            RecallPack.pack._.device.as_alias("device_id"),
            RecallPack.pack._.device._.name.as_alias("device_name"),
            RecallPack.load._.load_number.as_alias("load_number"),
            RecallPack.load._.day.as_alias("load_day"),
        )
        .where(RecallPack.failure == failure_id)
        .order_by(RecallPack.id)
    )
    pack_ids = [r["pack"] for r in recalled]
    visits: dict[int, list[str]] = {}
    if pack_ids:
        uses = (
            await Use.select(Use.id, Use.pack, Use.visit_code)
            .where(Use.pack.is_in(pack_ids))
            .order_by(Use.at)
        )
        corrected = await corrected_uses([u["id"] for u in uses])
        for use in uses:
            if use["id"] not in corrected:  # a corrected visit code is not a visit to follow up
                visits.setdefault(use["pack"], []).append(use["visit_code"])
    return FailureDetail(
        failure=failure_read(row),
        loads=sorted({r["load"] for r in recalled} | ({row["load"]} if row["load"] else set())),
        packs=[
            RecalledPack(
                pack_id=r["pack"],
                label_code=r["label_code"],
                device_id=r["device_id"],
                device_name=r["device_name"],
                load_id=r["load"],
                load_number=r["load_number"],
                load_day=r["load_day"],
                status_before=r["status_before"],
                visits=visits.get(r["pack"], []),
            )
            for r in recalled
        ],
    )


async def notify_phu(
    principal: Principal, site_id: int, failure_id: int, data: PhuIn, *, now: datetime
) -> FailureRead:
    at = data.notified_at or now
    if at.tzinfo is None or at > now:
        raise InvalidInput("Give a past time with its offset.", code="time_invalid")
    async with write_transaction():
        row = await _failure_row(site_id, failure_id)
        if row["phu_notified_at"] is not None:
            raise Conflict(
                "The public health unit notification is already recorded.", code="already_notified"
            )
        await Failure.update(
            {
                Failure.phu_notified_at: at,
                Failure.phu_notified_by: principal.actor,
                Failure.phu_contact: data.contact,
            }
        ).where(Failure.id == failure_id)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.failure.phu",
            entity="rp_failure",
            entity_id=failure_id,
            payload={"notified_at": at.isoformat(), "contact": data.contact},
            now=now,
        )
        return failure_read(await _failure_row(site_id, failure_id))


async def close_failure(
    principal: Principal, site_id: int, failure_id: int, data: CloseIn, *, now: datetime
) -> FailureRead:
    async with write_transaction():
        row = await _failure_row(site_id, failure_id)
        if row["closed_at"] is not None:
            raise Conflict("This failure record is already closed.", code="already_closed")
        if row["kind"] == "bi_positive":
            if row["phu_notified_at"] is None:
                raise RuleViolation(
                    "Record the call to the public health unit before closing.", code="phu_not_notified"
                )
            in_service = await Sterilizer.exists().where(
                (Sterilizer.id == row["sterilizer"]) & Sterilizer.in_service.eq(True)
            )
            if not in_service:
                raise RuleViolation(
                    "The sterilizer is still out of service: 3 negative BIs put it back first.",
                    code="sterilizer_out_of_service",
                )
        await Failure.update(
            {Failure.closed_at: now, Failure.closed_by: principal.actor, Failure.report: data.report}
        ).where(Failure.id == failure_id)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.failure.close",
            entity="rp_failure",
            entity_id=failure_id,
            payload={"report": data.report},
            now=now,
        )
        return failure_read(await _failure_row(site_id, failure_id))
