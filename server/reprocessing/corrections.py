"""Corrections (design.md §3): a record is never edited. A wrong step record gets a new step row that
names it, with a reason; wrong load results get a correction row (the values before and after) and
the load rules run again on the corrected values, so a "no" or "fail" found later takes the failure
path and a failed load is never quietly un-failed. Both are audited and exactly-once like any write."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from server.core import audit
from server.core.auth import Principal
from server.core.rules import Role
from server.db import write_transaction
from server.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from server.reprocessing import rules
from server.reprocessing.devices import get_settings, step_read
from server.reprocessing.loads import (
    facts,
    load_detail,
    load_row,
    open_failures,
    pack_counts,
    recall,
    recall_packs,
    reprocess_packs,
)
from server.reprocessing.rules import BiResult, LoadStatus, Refusal, StepKind
from server.reprocessing.schemas import LoadCorrectionIn, LoadDetail, StepCorrectionIn, StepRead
from server.reprocessing.tables import Load, LoadCorrection, Step, Use

RESULT_FIELDS = (
    "physical_met",
    "temperature_c",
    "minutes",
    "pressure_kpa",
    "printout",
    "external_ci",
    "internal_ci",
    "bi_lot",
    "bi_result",
)
# Steps a person records by scan; the others are made by a load or a recall and follow from those.
CORRECTABLE = frozenset(
    {
        StepKind.POINT_OF_USE,
        StepKind.CLEAN,
        StepKind.INSPECT,
        StepKind.PACKAGE,
        StepKind.DISINFECT,
        StepKind.STORE,
        StepKind.USE,
    }
)
MANAGERS = (Role.MANAGER, Role.ADMIN)


def _corrected_results(load: dict[str, Any], data: LoadCorrectionIn) -> dict[str, Any]:
    bi_lot = data.bi_lot.strip()
    bi_result = data.bi_result if data.bi_result is not None else load["bi_result"]
    if not bi_lot and bi_result:
        if data.bi_result is not None:
            raise InvalidInput(
                "A BI result needs the BI lot.",
                code="bi_lot_required",
                fields=[{"field": "bi_lot", "message": "Give the lot of the BI that was read."}],
            )
        bi_result = ""  # the BI lot was recorded by mistake: there was no BI
    if bi_lot and not bi_result:
        bi_result = BiResult.PENDING.value
    if load["bi_required"] and not bi_lot:
        raise InvalidInput(
            "This load needs a biological indicator: give the BI lot.",
            code="bi_missing",
            fields=[{"field": "bi_lot", "message": "Required for this load."}],
        )
    return {
        "physical_met": data.physical_met,
        "temperature_c": data.temperature_c.strip(),
        "minutes": data.minutes.strip(),
        "pressure_kpa": data.pressure_kpa.strip(),
        "printout": data.printout.strip(),
        "external_ci": data.external_ci,
        "internal_ci": data.internal_ci,
        "bi_lot": bi_lot,
        "bi_result": bi_result,
    }


async def correct_load(
    principal: Principal, site_id: int, load_id: int, data: LoadCorrectionIn, *, now: datetime
) -> LoadDetail:
    async with write_transaction():
        load = await load_row(site_id, load_id, lock=True)
        if load["results_at"] is None:
            raise Conflict(
                "This load has no results yet: record them instead of correcting.", code="no_results_yet"
            )
        before = {k: load[k] for k in RESULT_FIELDS}
        after = _corrected_results(load, data)
        if after == before:
            raise InvalidInput("These are the values already recorded.", code="nothing_changed")
        count = (await pack_counts([load_id])).get(load_id, 0)
        settings = await get_settings(site_id)
        old_facts, new_facts = facts(load, count), facts({**load, **after}, count)
        status_before = LoadStatus(load["status"])
        status = rules.corrected_status(
            status_before, new_facts, purpose=load["purpose"], release_before_bi=settings.release_before_bi
        )
        if isinstance(status, Refusal):
            raise RuleViolation(status.reason, code=status.code)
        opened = [k for k in rules.failures(new_facts) if k not in rules.failures(old_facts)]
        values: dict[str, Any] = {**after, "status": status.value}
        if after["bi_result"] != before["bi_result"]:
            read = after["bi_result"] in (BiResult.NEGATIVE.value, BiResult.POSITIVE.value)
            values |= {"bi_read_at": now if read else None, "bi_read_by": principal.actor if read else ""}
        await Load.update(values).where(Load.id == load_id)  # type: ignore[arg-type]
        rows = await LoadCorrection.insert(
            LoadCorrection(
                site=site_id,
                load=load_id,
                before=json.dumps(before),
                after=json.dumps(after),
                status_before=status_before.value,
                status_after=status.value,
                failures=",".join(opened),
                reason=data.reason.strip(),
                actor=principal.actor,
                actor_name=principal.display_name,
                at=now,
            )
        ).returning(LoadCorrection.id)
        await _failure_path(site_id, load, opened, status_before, principal, now)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.load.correction",
            entity="rp_load",
            entity_id=load_id,
            payload={
                "correction_id": rows[0]["id"],
                "before": before,
                "after": after,
                "status_before": status_before.value,
                "status_after": status.value,
                "failures": opened,
                "reason": data.reason.strip(),
            },
            now=now,
        )
    return await load_detail(site_id, load_id)


async def _failure_path(
    site_id: int,
    load: dict[str, Any],
    opened: list[str],
    status_before: LoadStatus,
    principal: Principal,
    now: datetime,
) -> None:
    """What a failure found by a correction starts, as if it had been recorded at the time: a positive
    BI recalls back to the last negative BI; any other "no" or "fail" sends the packs of a load not
    yet released back to be reprocessed, and recalls those of a released one."""
    if "bi_positive" in opened:
        await recall(site_id, load, principal, now)
    others = [k for k in opened if k != "bi_positive"]
    if not others:
        return
    failure_id = await open_failures(site_id, load, others, principal, now)
    if status_before in (LoadStatus.OPEN, LoadStatus.HELD):
        await reprocess_packs(site_id, load["id"], principal, now)
    elif status_before is LoadStatus.RELEASED and failure_id is not None:
        await recall_packs(site_id, failure_id, [load["id"]], principal, now)


async def correct_step(
    principal: Principal, site_id: int, step_id: int, data: StepCorrectionIn, *, now: datetime
) -> StepRead:
    async with write_transaction():
        original = await Step.select().where((Step.id == step_id) & (Step.site == site_id)).first()
        if original is None:
            raise NotFound("This step is not in this site's records.", code="step_not_found")
        kind = StepKind(original["step"])
        if kind not in CORRECTABLE:
            raise RuleViolation(
                "This entry was made by a sterilizer load or a recall: correct the load instead.",
                code="step_not_correctable",
            )
        if original["actor"] != principal.actor and principal.role_at(site_id) not in MANAGERS:
            raise Forbidden(
                "Only the person who recorded this step, or a manager, can correct it.", code="not_your_step"
            )
        if await Step.exists().where(Step.corrects == step_id):
            raise Conflict(
                "This step is already corrected: correct the correction.", code="already_corrected"
            )
        method, note = _step_changes(kind, original, data)
        rows = await Step.insert(
            Step(
                site=site_id,
                device=original["device"],
                pack=original["pack"],
                load=original["load"],
                step=kind.value,
                from_status=original["from_status"],
                to_status=original["to_status"],
                method=method,
                note=note,
                actor=principal.actor,
                actor_name=principal.display_name,
                at=now,
                corrects=step_id,
                reason=data.reason.strip(),
            )
        ).returning(*Step.all_columns())
        use_id = await _correct_use(original, data.visit_code, principal, now) if data.visit_code else None
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="reprocessing.step.correction",
            entity="rp_device",
            entity_id=original["device"],
            payload={
                "step_id": rows[0]["id"],
                "corrects": step_id,
                "method": method,
                "note": note,
                "visit_code": data.visit_code,
                "use_id": use_id,
                "reason": data.reason.strip(),
            },
            now=now,
        )
    return step_read(rows[0])


def _step_changes(kind: StepKind, original: dict[str, Any], data: StepCorrectionIn) -> tuple[str, str]:
    if data.method is not None and kind is not StepKind.CLEAN:
        raise InvalidInput(
            "Only a cleaning step has a cleaning method.",
            code="method_not_for_step",
            fields=[{"field": "method", "message": "Only for a cleaning step."}],
        )
    if data.visit_code is not None and kind is not StepKind.USE:
        raise InvalidInput(
            "Only a use at a visit has a visit code.",
            code="visit_code_not_for_step",
            fields=[{"field": "visit_code", "message": "Only for a use at a visit."}],
        )
    method = data.method.value if data.method is not None else original["method"]
    note = data.note.strip() if data.note is not None else original["note"]
    if method == original["method"] and note == original["note"] and data.visit_code is None:
        raise InvalidInput("Nothing is different from the record.", code="nothing_changed")
    return method, note


async def _correct_use(step: dict[str, Any], visit_code: str, principal: Principal, now: datetime) -> int:
    """The use recorded with this step (same device and moment) gets a new use naming it."""
    use = (
        await Use.select()
        .where((Use.device == step["device"]) & (Use.at == step["at"]))
        .order_by(Use.id, ascending=False)
        .first()
    )
    if use is None:
        raise NotFound("The use recorded with this step was not found.", code="use_not_found")
    if use["visit_code"] == visit_code:
        raise InvalidInput("This is the visit code already recorded.", code="nothing_changed")
    rows = await Use.insert(
        Use(
            site=use["site"],
            device=use["device"],
            pack=use["pack"],
            load=use["load"],
            visit_code=visit_code,
            actor=principal.actor,
            at=now,
            corrects=use["id"],
        )
    ).returning(Use.id)
    return int(rows[0]["id"])
