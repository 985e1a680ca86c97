"""The cold chain's documents: the monthly log sheet and the incident report (PDF)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from server.coldchain import incidents, report, rules, sheet
from server.coldchain.readings import (
    FUTURE_SLACK,
    closed_days,
    fridge_status,
    get_schedule,
    invalid,
    readings_between,
)
from server.core.service import site_zone
from server.core.tables import Site


async def month_sheet_pdf(site_id: int, location_id: int, month: str, *, now: datetime) -> bytes:
    try:
        year, number = (int(x) for x in month.split("-"))
        date(year, number, 1)
    except ValueError:
        raise invalid("month", "give a month like 2026-03", "month_invalid") from None
    zone = await site_zone(site_id)
    site = await Site.select(Site.name).where(Site.id == site_id).first()
    fridge = await fridge_status(site_id, location_id)
    start, end = sheet.month_bounds(year, number, zone)
    rows = await readings_between(site_id, location_id, start, end)
    sched = await get_schedule(site_id)
    closed = await closed_days(
        site_id, start.astimezone(zone).date(), (end - timedelta(days=1)).astimezone(zone).date()
    )
    return sheet.month_sheet(
        site_name=site["name"] if site else "",
        fridge_name=fridge.name,
        low=fridge.low,
        high=fridge.high,
        year=year,
        month=number,
        zone=zone,
        times=rules.parse_times(",".join(sched.times)),
        readings=rows,
        closed_days={c.day: c.note for c in closed},
        now=now,
    )


async def incident_report_pdf(site_id: int, incident_id: int, weeks: int, *, now: datetime) -> bytes:
    """The incident with its lots and the readings from ``weeks`` before it to its end (or now)."""
    incident = await incidents.get_incident(site_id, incident_id)
    zone = await site_zone(site_id)
    site = await Site.select(Site.name).where(Site.id == site_id).first()
    start = incident.started_at - timedelta(weeks=weeks)
    end = (incident.closed_at or incident.ended_at or now) + timedelta(seconds=1)
    rows = await readings_between(
        site_id, incident.location_id, start, max(end, incident.started_at + FUTURE_SLACK)
    )
    return report.incident_pdf(incident, rows, site_name=site["name"] if site else "", zone=zone)
