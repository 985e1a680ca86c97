"""Devices and sets, and the steps done on them by scan (point of use to use at a visit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.core import audit
from server.core.auth import Principal
from server.core.rules import Role, label_code_valid, new_label_code
from server.db import is_sqlite, write_transaction
from server.errors import Forbidden, InvalidInput, NotFound, RuleViolation
from server.reprocessing import hld, rules
from server.reprocessing.rules import DeviceKind, Refusal, Spaulding, Status, StepKind
from server.reprocessing.schemas import (
    DeviceCreate,
    DeviceDetail,
    DeviceRead,
    PackRead,
    ScanRead,
    SettingsIn,
    SettingsRead,
    StepIn,
    StepRead,
    StepResult,
)
from server.reprocessing.tables import Device, Load, Pack, ReprocessingSetting, Step, Sterilizer, Use


async def get_settings(site_id: int) -> SettingsRead:
    row = await ReprocessingSetting.select().where(ReprocessingSetting.site == site_id).first()
    if row is None:
        return SettingsRead()
    return SettingsRead(
        bi_first_load_per_cycle_type=row["bi_first_load_per_cycle_type"],
        bowie_dick_daily=row["bowie_dick_daily"],
        release_before_bi=row["release_before_bi"],
    )


async def set_settings(
    principal: Principal, site_id: int, data: SettingsIn, *, now: datetime
) -> SettingsRead:
    async with write_transaction():
        current = await get_settings(site_id)
        new = SettingsRead(
            bi_first_load_per_cycle_type=_pick(
                data.bi_first_load_per_cycle_type, current.bi_first_load_per_cycle_type
            ),
            bowie_dick_daily=_pick(data.bowie_dick_daily, current.bowie_dick_daily),
            release_before_bi=_pick(data.release_before_bi, current.release_before_bi),
        )
        values = {
            "bi_first_load_per_cycle_type": new.bi_first_load_per_cycle_type,
            "bowie_dick_daily": new.bowie_dick_daily,
            "release_before_bi": new.release_before_bi,
        }
        exists = await ReprocessingSetting.exists().where(ReprocessingSetting.site == site_id)
        if exists:
            await ReprocessingSetting.update(
                {**values, "updated_by": principal.actor, "updated_at": now}  # type: ignore[dict-item]
            ).where(ReprocessingSetting.site == site_id)
        else:
            await ReprocessingSetting.insert(
                ReprocessingSetting(
                    site=site_id,
                    bi_first_load_per_cycle_type=new.bi_first_load_per_cycle_type,
                    bowie_dick_daily=new.bowie_dick_daily,
                    release_before_bi=new.release_before_bi,
                    updated_by=principal.actor,
                    updated_at=now,
                )
            )
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.settings",
            entity="reprocessing_setting",
            entity_id=site_id,
            payload=values,
            now=now,
        )
    return new


def _pick(value: bool | None, default: bool) -> bool:
    return default if value is None else value


def device_read(row: dict[str, Any]) -> DeviceRead:
    spaulding = Spaulding(row["spaulding"])
    status = Status(row["status"])
    return DeviceRead(
        id=row["id"],
        name=row["name"],
        kind=DeviceKind(row["kind"]),
        spaulding=spaulding,
        required_process=rules.required_process(spaulding),
        single_use=row["single_use"],
        mifu=row["mifu"],
        status=status,
        next_step=None if row["single_use"] else rules.next_step(status, spaulding),
        label_code=row["label_code"],
    )


def pack_read(row: dict[str, Any], device_name: str) -> PackRead:
    return PackRead(
        id=row["id"],
        device_id=row["device"],
        device_name=device_name,
        load_id=row["load"],
        label_code=row["label_code"],
        status=row["status"],
        initials=row["initials"],
        packaged_at=row["packaged_at"],
    )


def step_read(row: dict[str, Any]) -> StepRead:
    return StepRead(
        id=row["id"],
        device_id=row["device"],
        pack_id=row["pack"],
        load_id=row["load"],
        step=StepKind(row["step"]),
        from_status=Status(row["from_status"]),
        to_status=Status(row["to_status"]),
        method=row["method"],
        note=row["note"],
        actor=row["actor"],
        actor_name=row["actor_name"],
        at=row["at"],
        device_name=row.get("device_name", ""),
        corrects=row.get("corrects"),
        reason=row.get("reason", ""),
        corrected_by=row.get("corrected_by"),
    )


async def create_device(
    principal: Principal, site_id: int, data: DeviceCreate, *, now: datetime
) -> DeviceRead:
    async with write_transaction():
        code = new_label_code("device")
        rows = await Device.insert(
            Device(
                site=site_id,
                name=data.name.strip(),
                kind=data.kind.value,
                spaulding=data.spaulding.value,
                single_use=data.single_use,
                mifu=data.mifu.strip(),
                status=Status.IN_USE.value,
                label_code=code,
                created_at=now,
            )
        ).returning(*Device.all_columns())
        device = device_read(rows[0])
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.device.create",
            entity="rp_device",
            entity_id=device.id,
            payload={
                "name": device.name,
                "kind": device.kind.value,
                "spaulding": device.spaulding.value,
                "single_use": device.single_use,
                "mifu": device.mifu,
                "label_code": code,
            },
            now=now,
        )
    return device


async def list_devices(site_id: int, status: Status | None = None) -> list[DeviceRead]:
    query = Device.select().where((Device.site == site_id) & (Device.active.eq(True)))
    if status is not None:
        query = query.where(Device.status == status.value)
    return [device_read(r) for r in await query.order_by(Device.name).order_by(Device.id)]


async def device_row(site_id: int, device_id: int, *, lock: bool = False) -> dict[str, Any]:
    query = Device.select().where((Device.id == device_id) & (Device.site == site_id))
    if lock and not is_sqlite():
        query = query.lock_rows("NO KEY UPDATE")
    row = await query.first()
    if row is None:
        raise NotFound("This device does not exist at this site.", code="device_not_found")
    return row


async def device_detail(site_id: int, device_id: int) -> DeviceDetail:
    row = await device_row(site_id, device_id)
    steps = await Step.select().where(Step.device == device_id).order_by(Step.at).order_by(Step.id)
    packs = await Pack.select().where(Pack.device == device_id).order_by(Pack.id)
    by = {s["corrects"]: s["id"] for s in steps if s["corrects"] is not None}
    return DeviceDetail(
        device=device_read(row),
        steps=[step_read({**s, "corrected_by": by.get(s["id"])}) for s in steps],
        packs=[pack_read(p, row["name"]) for p in packs],
    )


def _clean_code(raw: str) -> str:
    code = raw.strip().upper()
    if not label_code_valid(code):
        raise InvalidInput(
            "This is not a clinitrack label code. Scan the device's or the pack's label again.",
            code="label_code_invalid",
            fields=[{"field": "code", "message": "Not a valid label code."}],
        )
    return code


async def scan(site_id: int, raw: str) -> ScanRead:
    """What a device, pack or sterilizer label is, and the step a scan of it offers next."""
    code = raw.strip().upper()
    if not label_code_valid(code):
        return ScanRead(kind="unknown", message="This is not a clinitrack label code.")
    device = await Device.select().where((Device.label_code == code) & (Device.site == site_id)).first()
    if device is not None:
        d = device_read(device)
        return ScanRead(kind="device", device=d, next_step=d.next_step)
    pack = await Pack.select().where((Pack.label_code == code) & (Pack.site == site_id)).first()
    if pack is not None:
        d = device_read(await device_row(site_id, pack["device"]))
        return ScanRead(kind="pack", device=d, pack=pack_read(pack, d.name), next_step=d.next_step)
    sterilizer = (
        await Sterilizer.select(Sterilizer.id)
        .where((Sterilizer.label_code == code) & (Sterilizer.site == site_id))
        .first()
    )
    if sterilizer is not None:
        return ScanRead(kind="sterilizer", sterilizer_id=sterilizer["id"])
    return ScanRead(kind="unknown", message="No device, pack or sterilizer has this label at this site.")


async def _resolve_for_step(site_id: int, raw: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The device (locked) and, when a pack label was scanned, the pack."""
    code = _clean_code(raw)
    pack = await Pack.select().where((Pack.label_code == code) & (Pack.site == site_id)).first()
    if pack is not None:
        return await device_row(site_id, pack["device"], lock=True), pack
    row = await Device.select(Device.id).where((Device.label_code == code) & (Device.site == site_id)).first()
    if row is None:
        raise NotFound("No device or pack has this label at this site.", code="label_not_found")
    return await device_row(site_id, row["id"], lock=True), None


async def _current_pack(device_id: int) -> dict[str, Any] | None:
    return await Pack.select().where(Pack.device == device_id).order_by(Pack.id, ascending=False).first()


def _refuse(out: Refusal) -> RuleViolation:
    return RuleViolation(out.reason, code=out.code)


async def _check_step(
    data: StepIn, device: dict[str, Any], pack: dict[str, Any] | None, role: Role | None
) -> None:
    """What the step itself needs, beyond the device's order."""
    if data.step in (StepKind.STERILIZE,):
        raise RuleViolation(
            "Sterilization is recorded by adding the pack to a load and releasing the load.",
            code="sterilize_by_load",
        )
    if data.step is StepKind.RETURN and role not in (Role.MANAGER, Role.ADMIN):
        raise Forbidden(
            "Only a manager can return a quarantined or out-of-service item.", code="manager_only"
        )
    if data.step is StepKind.CLEAN and data.method is None:
        raise InvalidInput(
            "Say how it was cleaned: manual, ultrasonic or washer.",
            code="method_required",
            fields=[{"field": "method", "message": "Required for cleaning."}],
        )
    if data.step is StepKind.INSPECT and data.result is None:
        raise InvalidInput(
            "Give the inspection and function check result.",
            code="result_required",
            fields=[{"field": "result", "message": "Required for inspection."}],
        )
    if data.step is StepKind.PACKAGE and not data.initials:
        raise InvalidInput(
            "Give your initials: they are printed on the pack label.",
            code="initials_required",
            fields=[{"field": "initials", "message": "Required for packaging."}],
        )
    if data.step is StepKind.USE and not data.visit_code:
        raise InvalidInput(
            "Give the visit code (the clinic's own reference, no patient name).",
            code="visit_code_required",
            fields=[{"field": "visit_code", "message": "Required at use."}],
        )
    if data.step in (StepKind.STORE, StepKind.USE) and device["status"] in (
        Status.STERILIZED.value,
        Status.STORED.value,
    ):
        current = await _current_pack(device["id"])
        if current is not None and current["status"] in ("sterile", "stored"):
            if pack is None or pack["id"] != current["id"]:
                raise RuleViolation(
                    "This item is in a sterile pack: scan the pack's label.", code="scan_the_pack"
                )
            await _check_pack_released(current)


async def _check_pack_released(pack: dict[str, Any]) -> None:
    if pack["load"] is None:
        raise RuleViolation("This pack was never sterilized.", code="pack_not_sterilized")
    load = await Load.select(Load.status).where(Load.id == pack["load"]).first()
    if load is None or load["status"] != "released":
        raise RuleViolation("This pack's load is not released: do not use it.", code="load_not_released")


async def record_step(principal: Principal, site_id: int, data: StepIn, *, now: datetime) -> StepResult:
    async with write_transaction():
        device, pack = await _resolve_for_step(site_id, data.code)
        if (
            pack is not None
            and pack["status"] in ("recalled", "reprocess")
            and data.step
            in (
                StepKind.STORE,
                StepKind.USE,
            )
        ):
            raise RuleViolation("This pack was recalled: do not use it.", code="pack_recalled")
        await _check_step(data, device, pack, principal.role_at(site_id))
        before = Status(device["status"])
        out = rules.step_outcome(
            data.step,
            before,
            spaulding=Spaulding(device["spaulding"]),
            single_use=device["single_use"],
            inspect_result=data.result,
            process=data.process,
        )
        if isinstance(out, Refusal):
            raise _refuse(out)
        hld_ids = None
        if data.step is StepKind.DISINFECT and data.process is rules.Process.HLD:
            hld_ids = await hld.check(site_id, data, now=now)
        new_pack, pack_id, load_id = None, None, None
        if data.step is StepKind.PACKAGE:
            new_pack = await _make_pack(site_id, device, data.initials or "", principal, now)
            pack_id = new_pack.id
        elif data.step in (StepKind.STORE, StepKind.USE) and before in (Status.STERILIZED, Status.STORED):
            current = await _current_pack(device["id"])
            if current is not None:
                pack_id, load_id = current["id"], current["load"]
                await Pack.update({Pack.status: "stored" if data.step is StepKind.STORE else "used"}).where(
                    Pack.id == current["id"]
                )
        await Device.update({Device.status: out.value}).where(Device.id == device["id"])
        method = (data.method.value if data.method else "") or (data.result.value if data.result else "")
        method = method or (data.process.value if data.process else "")
        step = await _insert_step(
            site_id,
            device["id"],
            data.step,
            before,
            out,
            method,
            data.note,
            principal,
            now,
            pack_id=pack_id,
            load_id=load_id,
        )
        if hld_ids is not None:
            await hld.record(site_id, device["id"], step.id, hld_ids, data, principal, now)
        if data.step is StepKind.USE:
            await Use.insert(
                Use(
                    site=site_id,
                    device=device["id"],
                    pack=pack_id,
                    load=load_id,
                    visit_code=data.visit_code or "",
                    actor=principal.actor,
                    at=now,
                )
            )
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action=f"reprocessing.step.{data.step.value}",
            entity="rp_device",
            entity_id=device["id"],
            payload={
                "step_id": step.id,
                "from": before.value,
                "to": out.value,
                "method": method,
                "pack_id": pack_id,
                "load_id": load_id,
                "visit_code": data.visit_code or "",
                "hld": None
                if hld_ids is None
                else {
                    "solution_id": hld_ids[0],
                    "mec_test_id": hld_ids[1],
                    "soak_minutes": data.soak_minutes,
                    "temperature_c": data.temperature_c,
                },
                "note": data.note,
            },
            now=now,
        )
        device["status"] = out.value
    return StepResult(device=device_read(device), step=step, pack=new_pack)


async def _make_pack(
    site_id: int, device: dict[str, Any], initials: str, principal: Principal, now: datetime
) -> PackRead:
    rows = await Pack.insert(
        Pack(
            site=site_id,
            device=device["id"],
            label_code=new_label_code("pack"),
            status="packaged",
            packaged_by=principal.actor,
            initials=initials.upper(),
            packaged_at=now,
        )
    ).returning(*Pack.all_columns())
    return pack_read(rows[0], device["name"])


async def _insert_step(
    site_id: int,
    device_id: int,
    kind: StepKind,
    before: Status,
    after: Status,
    method: str,
    note: str,
    principal: Principal,
    now: datetime,
    *,
    pack_id: int | None = None,
    load_id: int | None = None,
) -> StepRead:
    rows = await Step.insert(
        Step(
            site=site_id,
            device=device_id,
            pack=pack_id,
            load=load_id,
            step=kind.value,
            from_status=before.value,
            to_status=after.value,
            method=method,
            note=note,
            actor=principal.actor,
            actor_name=principal.display_name,
            at=now,
        )
    ).returning(*Step.all_columns())
    return step_read(rows[0])


async def set_device_status(
    site_id: int,
    device_id: int,
    kind: StepKind,
    after: Status,
    note: str,
    principal: Principal,
    now: datetime,
    *,
    pack_id: int | None = None,
    load_id: int | None = None,
) -> None:
    """A status change made by a load or a recall (inside the caller's transaction)."""
    row = await device_row(site_id, device_id, lock=True)
    await Device.update({Device.status: after.value}).where(Device.id == device_id)
    await _insert_step(
        site_id,
        device_id,
        kind,
        Status(row["status"]),
        after,
        "",
        note,
        principal,
        now,
        pack_id=pack_id,
        load_id=load_id,
    )
