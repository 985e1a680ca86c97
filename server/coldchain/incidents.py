"""Cold chain incidents (domain §3): an excursion holds every lot in the fridge as DO NOT USE; the
manager records the call to the public health unit, the logs sent, a decision per lot (released,
discarded as cold chain waste, or returned), then closes the incident with a summary.

Lock order (PostgreSQL), as everywhere: stock levels, then lots, then the audit head. An excursion
locks the fridge's lots in id order before the first status change appends to the audit chain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.coldchain import rules
from server.coldchain.rules import Decision
from server.coldchain.schemas import (
    CloseIn,
    DecisionIn,
    IncidentLotRead,
    IncidentRead,
    LogsSentIn,
    PhuNotifiedIn,
)
from server.coldchain.tables import ColdChainIncident, IncidentLot, TemperatureReading
from server.core import audit
from server.core.auth import Principal
from server.core.service import site_zone
from server.db import is_sqlite, write_transaction
from server.errors import Conflict, NotFound, RuleViolation
from server.stock import ledger
from server.stock.rules import LotStatus, WasteReason
from server.stock.schemas import ReturnIn, WasteIn
from server.stock.tables import Lot, OpenedVial, StockLevel

OPEN = "open"
CLOSED = "closed"

_COLUMNS = (*ColdChainIncident.all_columns(), ColdChainIncident.location.name)


def _lot_read(row: dict[str, Any]) -> IncidentLotRead:
    return IncidentLotRead(
        lot_id=row["lot"],
        item_name=row["item_name"],
        lot_number=row["lot_number"],
        expiry=row["expiry"],
        quantity=row["quantity"],
        opened_vials=row["opened_vials"],
        status_before=row["status_before"],
        decision=row["decision"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        note=row["note"],
    )


def _read(row: dict[str, Any], lots: list[IncidentLotRead]) -> IncidentRead:
    return IncidentRead(
        id=row["id"],
        location_id=row["location"],
        location_name=row["location.name"],
        status=row["status"],
        since=row["since"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        lowest=row["lowest_tenths"] / 10,
        highest=row["highest_tenths"] / 10,
        low=row["low_tenths"] / 10,
        high=row["high_tenths"] / 10,
        opened_by=row["opened_by"],
        phu_notified_by=row["phu_notified_by"],
        phu_notified_at=row["phu_notified_at"],
        phu_contact=row["phu_contact"],
        logs_sent_by=row["logs_sent_by"],
        logs_sent_at=row["logs_sent_at"],
        closed_by=row["closed_by"],
        closed_at=row["closed_at"],
        summary=row["summary"],
        lots=lots,
    )


async def _row(site_id: int, incident_id: int) -> dict[str, Any]:
    row = (
        await ColdChainIncident.select(*_COLUMNS)
        .where((ColdChainIncident.id == incident_id) & (ColdChainIncident.site == site_id))
        .first()
    )
    if row is None:
        raise NotFound("This cold chain incident is not known at this site.", code="incident_not_found")
    return dict(row)


async def get_incident(site_id: int, incident_id: int) -> IncidentRead:
    row = await _row(site_id, incident_id)
    lots = await IncidentLot.select().where(IncidentLot.incident == incident_id).order_by(IncidentLot.id)
    return _read(row, [_lot_read(r) for r in lots])


async def list_incidents(site_id: int, *, status: str | None = None, limit: int = 100) -> list[IncidentRead]:
    query = ColdChainIncident.select(*_COLUMNS).where(ColdChainIncident.site == site_id)
    if status:
        query = query.where(ColdChainIncident.status == status)
    rows = await query.order_by(ColdChainIncident.id, ascending=False).limit(limit)
    return [_read(r, []) for r in rows]


async def open_incident(location_id: int) -> dict[str, Any] | None:
    row = (
        await ColdChainIncident.select()
        .where((ColdChainIncident.location == location_id) & (ColdChainIncident.status == OPEN))
        .first()
    )
    return dict(row) if row else None


# --- excursions -------------------------------------------------------------------------------------


async def _lots_in(location_id: int) -> list[dict[str, Any]]:
    return list(
        await StockLevel.select(
            StockLevel.lot,
            StockLevel.on_hand,
            StockLevel.lot.lot_number,
            StockLevel.lot.expiry,
            StockLevel.lot.status,
            StockLevel.lot.item.name,  # type: ignore[union-attr]
        )
        .where((StockLevel.location == location_id) & (StockLevel.on_hand > 0))
        .order_by(StockLevel.lot)
    )


async def _opened_vials(location_id: int) -> dict[int, int]:
    rows = await OpenedVial.select(OpenedVial.lot).where(
        (OpenedVial.location == location_id) & (OpenedVial.status == "open")
    )
    counts: dict[int, int] = {}
    for r in rows:
        counts[int(r["lot"])] = counts.get(int(r["lot"]), 0) + 1
    return counts


async def _since(location_id: int, taken_at: datetime) -> datetime | None:
    row = (
        await TemperatureReading.select(TemperatureReading.taken_at)
        .where((TemperatureReading.location == location_id) & (TemperatureReading.taken_at < taken_at))
        .order_by(TemperatureReading.taken_at, ascending=False)
        .first()
    )
    return row["taken_at"] if row else None


def hold_reason(incident_id: int, fridge_name: str, lowest: int, highest: int, at: str) -> str:
    return (
        f"DO NOT USE: cold chain excursion in {fridge_name} ({lowest / 10:.1f} to {highest / 10:.1f} °C, "
        f"found {at}). Keep at 2-8 °C until the public health unit decides (incident #{incident_id})."
    )


async def _start_or_extend(
    principal: Principal, site_id: int, fridge: dict[str, Any], lo: int, hi: int, taken_at: datetime
) -> dict[str, Any]:
    current = await open_incident(int(fridge["id"]))
    if current is None:
        inserted = await ColdChainIncident.insert(
            ColdChainIncident(
                site=site_id,
                location=fridge["id"],
                status=OPEN,
                since=await _since(int(fridge["id"]), taken_at),
                started_at=taken_at,
                lowest_tenths=lo,
                highest_tenths=hi,
                low_tenths=fridge["low"],
                high_tenths=fridge["high"],
                opened_by=principal.actor,
            )
        ).returning(*ColdChainIncident.all_columns())
        return {**inserted[0], "new": True}
    lo, hi = min(lo, current["lowest_tenths"]), max(hi, current["highest_tenths"])
    started = min(taken_at, current["started_at"])
    await ColdChainIncident.update(
        {
            ColdChainIncident.lowest_tenths: lo,
            ColdChainIncident.highest_tenths: hi,
            ColdChainIncident.started_at: started,
            ColdChainIncident.ended_at: None,
        }
    ).where(ColdChainIncident.id == current["id"])
    return {**current, "lowest_tenths": lo, "highest_tenths": hi, "started_at": started, "new": False}


async def excursion(
    principal: Principal,
    site_id: int,
    fridge: dict[str, Any],
    values: list[int | None],
    taken_at: datetime,
    *,
    now: datetime,
) -> int:
    """Open (or extend) the fridge's incident and hold every lot in it. Runs inside the caller's
    write transaction, before the caller's own audit entry."""
    lo, hi = rules.extremes(values)
    incident = await _start_or_extend(principal, site_id, fridge, lo, hi, taken_at)
    incident_id = int(incident["id"])
    lots = await _lots_in(int(fridge["id"]))
    ids = [int(r["lot"]) for r in lots]
    if ids and not is_sqlite():  # every lot before the first audit append (lock order)
        await Lot.select(Lot.id).where(Lot.id.is_in(ids)).order_by(Lot.id).lock_rows("NO KEY UPDATE")
    known = {
        int(r["lot"])
        for r in await IncidentLot.select(IncidentLot.lot).where(IncidentLot.incident == incident_id)
    }
    zone = await site_zone(site_id)
    found = taken_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    reason = hold_reason(
        incident_id, fridge["name"], incident["lowest_tenths"], incident["highest_tenths"], found
    )
    vials = await _opened_vials(int(fridge["id"]))
    new_lots = [r for r in lots if int(r["lot"]) not in known]
    for r in new_lots:
        if r["lot.status"] == LotStatus.AVAILABLE:
            await ledger.set_lot_status(
                principal, site_id, int(r["lot"]), LotStatus.QUARANTINED, reason, now=now
            )
    if new_lots:
        await IncidentLot.insert(
            *[
                IncidentLot(
                    site=site_id,
                    incident=incident_id,
                    lot=r["lot"],
                    item_name=r["lot.item.name"],
                    lot_number=r["lot.lot_number"],
                    expiry=r["lot.expiry"],
                    quantity=r["on_hand"],
                    opened_vials=vials.get(int(r["lot"]), 0),
                    status_before=r["lot.status"],
                    decision="",
                )
                for r in new_lots
            ]
        )
    await audit.append(
        actor=principal.actor,
        site_id=site_id,
        action="coldchain.incident_open" if incident["new"] else "coldchain.incident_extend",
        entity="coldchain_incident",
        entity_id=incident_id,
        payload={
            "location_id": fridge["id"],
            "taken_at": taken_at.isoformat(),
            "lowest": incident["lowest_tenths"] / 10,
            "highest": incident["highest_tenths"] / 10,
            "lots_held": [{"lot_id": r["lot"], "quantity": r["on_hand"]} for r in new_lots],
        },
        now=now,
    )
    await _raise_alert(now)
    return incident_id


async def _raise_alert(now: datetime) -> None:
    """The excursion alert opens with the reading that found it (in its transaction), not at the
    next sweep; its mail goes out with the next delivery run, within a minute."""
    from server.alerts.rules import TEMPERATURE_EXCURSION
    from server.alerts.sweep import sweep_rule

    await sweep_rule(TEMPERATURE_EXCURSION, now)


async def back_in_range(location_id: int, taken_at: datetime) -> None:
    """An in-range reading after the excursion marks its end (the incident stays open)."""
    await ColdChainIncident.update({ColdChainIncident.ended_at: taken_at}).where(
        (ColdChainIncident.location == location_id)
        & (ColdChainIncident.status == OPEN)
        & ColdChainIncident.ended_at.is_null()
        & (ColdChainIncident.started_at < taken_at)
    )


# --- workflow ---------------------------------------------------------------------------------------


async def _open_row(site_id: int, incident_id: int) -> dict[str, Any]:
    """The incident, locked for this write on PostgreSQL (taken before any stock, lot or audit lock,
    as an excursion takes it): two managers' steps on one incident queue instead of both passing."""
    row = await _row(site_id, incident_id)
    if not is_sqlite():
        await (
            ColdChainIncident.select(ColdChainIncident.id)
            .where(ColdChainIncident.id == incident_id)
            .lock_rows("NO KEY UPDATE")
        )
        row = await _row(site_id, incident_id)
    if row["status"] != OPEN:
        raise Conflict("This incident is closed.", code="incident_closed")
    return row


async def _audit(
    principal: Principal, site_id: int, incident_id: int, action: str, payload: dict[str, Any], now: datetime
) -> None:
    await audit.append(
        actor=principal.actor,
        site_id=site_id,
        action=action,
        entity="coldchain_incident",
        entity_id=incident_id,
        payload=payload,
        now=now,
    )


async def phu_notified(
    principal: Principal, site_id: int, incident_id: int, data: PhuNotifiedIn, *, now: datetime
) -> IncidentRead:
    async with write_transaction():
        row = await _open_row(site_id, incident_id)
        if row["phu_notified_at"] is not None:
            raise Conflict("The public health unit call is already recorded.", code="phu_already_notified")
        at = data.at or now
        await ColdChainIncident.update(
            {
                ColdChainIncident.phu_notified_by: principal.actor,
                ColdChainIncident.phu_notified_at: at,
                ColdChainIncident.phu_contact: data.contact,
            }
        ).where(ColdChainIncident.id == incident_id)
        await _audit(
            principal,
            site_id,
            incident_id,
            "coldchain.phu_notified",
            {"contact": data.contact, "at": at.isoformat()},
            now,
        )
        return await get_incident(site_id, incident_id)


async def logs_sent(
    principal: Principal, site_id: int, incident_id: int, data: LogsSentIn, *, now: datetime
) -> IncidentRead:
    async with write_transaction():
        row = await _open_row(site_id, incident_id)
        if row["logs_sent_at"] is not None:
            raise Conflict("Sending the logs is already recorded.", code="logs_already_sent")
        at = data.at or now
        await ColdChainIncident.update(
            {ColdChainIncident.logs_sent_by: principal.actor, ColdChainIncident.logs_sent_at: at}
        ).where(ColdChainIncident.id == incident_id)
        await _audit(
            principal,
            site_id,
            incident_id,
            "coldchain.logs_sent",
            {"note": data.note, "at": at.isoformat()},
            now,
        )
        return await get_incident(site_id, incident_id)


async def _still_held_elsewhere(lot_id: int, incident_id: int) -> bool:
    """Another open incident (another fridge) still waiting for a decision on this lot."""
    rows = await IncidentLot.select(IncidentLot.id).where(
        (IncidentLot.lot == lot_id)
        & (IncidentLot.incident != incident_id)
        & (IncidentLot.decision == "")
        & (IncidentLot.incident.status == OPEN)
    )
    return bool(rows)


async def _take_out(
    principal: Principal,
    site_id: int,
    incident_id: int,
    lot_id: int,
    location_id: int,
    decision: Decision,
    now: datetime,
) -> int:
    """Discard (cold chain waste) or return what is left of the lot in this fridge."""
    quantity = await ledger.on_hand(lot_id, location_id)
    note = f"Cold chain incident #{incident_id}"
    if quantity > 0 and decision is Decision.DISCARDED:
        data = WasteIn(
            lot_id=lot_id,
            location_id=location_id,
            quantity=quantity,
            reason=WasteReason.COLD_CHAIN,
            note=note,
        )
        await ledger.waste(principal, site_id, data, now=now)
    elif quantity > 0:
        await ledger.return_to_supplier(
            principal,
            site_id,
            ReturnIn(lot_id=lot_id, location_id=location_id, quantity=quantity, note=note),
            now=now,
        )
    # Opened vials left the fridge with the rest: the beyond-use sweep has nothing left to waste.
    await OpenedVial.update({OpenedVial.status: "wasted", OpenedVial.closed_at: now}).where(
        (OpenedVial.lot == lot_id) & (OpenedVial.location == location_id) & (OpenedVial.status == "open")
    )
    return quantity


async def decide(
    principal: Principal, site_id: int, incident_id: int, data: DecisionIn, *, now: datetime
) -> IncidentRead:
    """The public health unit's decision for one lot. Recorded once: a second decision is refused."""
    async with write_transaction():
        row = await _open_row(site_id, incident_id)
        # The conditional update takes the lot's row first: two racing decisions cannot both win.
        taken = (
            await IncidentLot.update(
                {
                    IncidentLot.decision: data.decision.value,
                    IncidentLot.decided_by: principal.actor,
                    IncidentLot.decided_at: now,
                    IncidentLot.note: data.note,
                }
            )
            .where(
                (IncidentLot.incident == incident_id)
                & (IncidentLot.lot == data.lot_id)
                & (IncidentLot.decision == "")
            )
            .returning(IncidentLot.status_before)
        )
        if not taken:
            known = await IncidentLot.exists().where(
                (IncidentLot.incident == incident_id) & (IncidentLot.lot == data.lot_id)
            )
            if not known:
                raise NotFound("This lot is not part of this incident.", code="incident_lot_not_found")
            raise Conflict("A decision is already recorded for this lot.", code="lot_already_decided")
        location_id = int(row["location"])
        quantity = 0
        if data.decision is Decision.RELEASED:
            lot = await ledger.lot_row(site_id, data.lot_id)
            held_by_us = (
                taken[0]["status_before"] == LotStatus.AVAILABLE and lot["status"] == LotStatus.QUARANTINED
            )
            if held_by_us and not await _still_held_elsewhere(data.lot_id, incident_id):
                reason = f"Released after cold chain incident #{incident_id}: usable per public health."
                await ledger.set_lot_status(
                    principal, site_id, data.lot_id, LotStatus.AVAILABLE, reason, now=now
                )
        else:
            quantity = await _take_out(
                principal, site_id, incident_id, data.lot_id, location_id, data.decision, now
            )
        await _audit(
            principal,
            site_id,
            incident_id,
            "coldchain.decision",
            {"lot_id": data.lot_id, "decision": data.decision.value, "quantity": quantity, "note": data.note},
            now,
        )
        return await get_incident(site_id, incident_id)


async def close(
    principal: Principal, site_id: int, incident_id: int, data: CloseIn, *, now: datetime
) -> IncidentRead:
    async with write_transaction():
        row = await _open_row(site_id, incident_id)
        if row["phu_notified_at"] is None:
            raise RuleViolation(
                "Record the call to the public health unit before closing.", code="phu_not_notified"
            )
        if row["ended_at"] is None:
            raise RuleViolation(
                "The fridge has no in-range reading since the excursion: record one before closing.",
                code="still_out_of_range",
            )
        undecided = await IncidentLot.count().where(
            (IncidentLot.incident == incident_id) & (IncidentLot.decision == "")
        )
        if undecided:
            raise RuleViolation(
                f"{undecided} lot(s) still wait for a decision: release, discard or return each one.",
                code="lots_undecided",
            )
        await ColdChainIncident.update(
            {
                ColdChainIncident.status: CLOSED,
                ColdChainIncident.closed_by: principal.actor,
                ColdChainIncident.closed_at: now,
                ColdChainIncident.summary: data.summary,
            }
        ).where(ColdChainIncident.id == incident_id)
        await _audit(principal, site_id, incident_id, "coldchain.close", {"summary": data.summary}, now)
        return await get_incident(site_id, incident_id)
