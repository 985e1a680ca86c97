"""The inspector's review (read-only): the loads log, its CSV laid out like the PHO sterilization
monitoring log, the day's missing entries, and traceability both ways (visits by load, loads by visit)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from server.core.audit import chain_for
from server.core.service import site_zone
from server.core.tables import AuditEvent
from server.csvcell import cell
from server.reprocessing.devices import get_settings, step_read
from server.reprocessing.loads import load_read, pack_counts, read_loads, use_read
from server.reprocessing.rules import LoadStatus, StepKind, SterilizerKind
from server.reprocessing.schemas import LoadRead, MissingItem, MissingRead, StepRead, VisitRead
from server.reprocessing.tables import BowieDickTest, Load, Pack, Step, Sterilizer, Use

MAX_ROWS = 5000


@dataclass(frozen=True)
class LoadFilter:
    sterilizer_id: int | None = None
    from_day: date | None = None
    to_day: date | None = None  # inclusive
    status: LoadStatus | None = None


async def list_loads(site_id: int, f: LoadFilter, limit: int = MAX_ROWS) -> list[LoadRead]:
    query = Load.select().where(Load.site == site_id)
    if f.sterilizer_id is not None:
        query = query.where(Load.sterilizer == f.sterilizer_id)
    if f.from_day is not None:
        query = query.where(Load.day >= f.from_day)
    if f.to_day is not None:
        query = query.where(Load.day <= f.to_day)
    if f.status is not None:
        query = query.where(Load.status == f.status.value)
    rows = await query.order_by(Load.started_at).order_by(Load.id).limit(limit)
    return await read_loads(site_id, rows)


CSV_HEADER = [
    "sterilizer",
    "model",
    "serial",
    "date",
    "time",
    "load_number",
    "cycle_type",
    "contents",
    "implant",
    "time_temp_pressure_met",
    "temperature_c",
    "minutes",
    "pressure_kpa",
    "external_ci",
    "internal_ci",
    "bi_lot",
    "bi_result",
    "bi_read_at",
    "operator_initials",
    "released_by",
    "released_at",
    "status",
    "comment",
]


def _yn(value: bool | None) -> str:
    return "" if value is None else ("Y" if value else "N")


async def export_csv(site_id: int, f: LoadFilter) -> str:
    """One row per load, the PHO log's columns, then the audit-chain head of the covered range."""
    loads = await list_loads(site_id, f)
    tz = await site_zone(site_id)
    sterilizers = {r["id"]: r for r in await Sterilizer.select().where(Sterilizer.site == site_id)}
    contents = await load_contents([load.id for load in loads])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for load in loads:
        st = sterilizers[load.sterilizer_id]
        local = load.started_at.astimezone(tz)
        row = [
            st["name"],
            st["model"],
            st["serial"],
            load.day.isoformat(),
            local.strftime("%H:%M"),
            load.load_number,
            load.cycle_type,
            "; ".join(contents.get(load.id, [])) or ("BI test" if load.purpose == "bi_test" else ""),
            _yn(load.implant),
            _yn(load.physical_met),
            load.temperature_c,
            load.minutes,
            load.pressure_kpa,
            load.external_ci,
            load.internal_ci,
            load.bi_lot,
            load.bi_result.value,
            load.bi_read_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if load.bi_read_at else "",
            load.operator_initials,
            load.releaser_name,
            load.released_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if load.released_at else "",
            load.status.value,
            load.comment,
        ]
        writer.writerow([cell(v) for v in row])
    writer.writerow([])
    writer.writerow(["audit_chain", *await chain_range(site_id, f, tz)])
    return out.getvalue()


async def load_contents(load_ids: list[int]) -> dict[int, list[str]]:
    """Each load's packs as "device (label code)"."""
    contents: dict[int, list[str]] = {}
    if load_ids:
        packs = (
            await Pack.select(Pack.load, Pack.label_code, Pack.device._.name.as_alias("name"))
            .where(Pack.load.is_in(load_ids))
            .order_by(Pack.id)
        )
        for p in packs:
            contents.setdefault(p["load"], []).append(f"{p['name']} ({p['label_code']})")
    return contents


async def chain_range(site_id: int, f: LoadFilter, tz: Any) -> list[str]:
    """The site chain's events in the covered days: first and last seq and the last hash. Anyone
    with `clinitrack audit verify` can check the chain still ends in this hash at that seq."""
    query = AuditEvent.select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.chain == chain_for(site_id))
    if f.from_day is not None:
        query = query.where(AuditEvent.at >= datetime.combine(f.from_day, time(0), tzinfo=tz))
    if f.to_day is not None:
        query = query.where(
            AuditEvent.at < datetime.combine(f.to_day + timedelta(days=1), time(0), tzinfo=tz)
        )
    first = await query.order_by(AuditEvent.seq).first()
    last = await query.order_by(AuditEvent.seq, ascending=False).first()
    if first is None or last is None:
        return [chain_for(site_id), "no events"]
    return [chain_for(site_id), f"seq {first['seq']}-{last['seq']}", f"hash {last['hash']}"]


async def missing(site_id: int, day: date) -> MissingRead:
    """What the day's log is missing, per sterilizer used that day."""
    settings = await get_settings(site_id)
    sterilizers = await Sterilizer.select().where(Sterilizer.site == site_id).order_by(Sterilizer.name)
    loads = await Load.select().where((Load.site == site_id) & (Load.day == day)).order_by(Load.started_at)
    passed = {
        r["sterilizer"]
        for r in await BowieDickTest.select(BowieDickTest.sterilizer).where(
            (BowieDickTest.site == site_id) & (BowieDickTest.day == day) & BowieDickTest.passed.eq(True)
        )
    }
    counts = await pack_counts([r["id"] for r in loads])
    items: list[MissingItem] = []
    for st in sterilizers:
        mine = [r for r in loads if r["sterilizer"] == st["id"] and r["purpose"] == "load"]
        if not mine:
            continue
        name = st["name"]
        if not any(r["bi_lot"] for r in mine):
            items.append(
                MissingItem(
                    code="no_bi",
                    sterilizer_id=st["id"],
                    sterilizer_name=name,
                    message="Used today with no biological indicator.",
                )
            )
        if (
            settings.bowie_dick_daily
            and st["kind"] == SterilizerKind.PRE_VACUUM.value
            and st["id"] not in passed
        ):
            items.append(
                MissingItem(
                    code="no_bowie_dick",
                    sterilizer_id=st["id"],
                    sterilizer_name=name,
                    message="Pre-vacuum sterilizer used with no passing Bowie-Dick test today.",
                )
            )
        for r in mine:
            read = load_read(r, name, counts.get(r["id"], 0), settings.release_before_bi)
            if r["status"] in (LoadStatus.OPEN.value, LoadStatus.HELD.value):
                items.append(
                    MissingItem(
                        code="unreleased_load",
                        sterilizer_id=st["id"],
                        sterilizer_name=name,
                        load_id=r["id"],
                        message=f"Load {r['load_number']} is not released: "
                        + " ".join(read.release_problems),
                    )
                )
            if r["bi_result"] == "pending":
                items.append(
                    MissingItem(
                        code="bi_unread",
                        sterilizer_id=st["id"],
                        sterilizer_name=name,
                        load_id=r["id"],
                        message=f"Load {r['load_number']}: the BI result is not recorded.",
                    )
                )
    return MissingRead(day=day, items=items)


async def steps(
    site_id: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    device_id: int | None = None,
    step: StepKind | None = None,
    limit: int = MAX_ROWS,
) -> list[StepRead]:
    """Reprocessing records: every step done, by time, device and kind of step."""
    query = Step.select().where(Step.site == site_id)
    if start is not None:
        query = query.where(Step.at >= start)
    if end is not None:
        query = query.where(Step.at < end)
    if device_id is not None:
        query = query.where(Step.device == device_id)
    if step is not None:
        query = query.where(Step.step == step.value)
    rows = await query.order_by(Step.at).order_by(Step.id).limit(limit)
    return [step_read(r) for r in rows]


async def visit(site_id: int, visit_code: str) -> VisitRead:
    """Loads by visit: what was used at one visit, and the loads it came from."""
    uses = await Use.select().where((Use.site == site_id) & (Use.visit_code == visit_code)).order_by(Use.at)
    load_ids = sorted({u["load"] for u in uses if u["load"] is not None})
    rows = await Load.select().where(Load.id.is_in(load_ids)) if load_ids else []
    return VisitRead(
        visit_code=visit_code, uses=[use_read(u) for u in uses], loads=await read_loads(site_id, rows)
    )
