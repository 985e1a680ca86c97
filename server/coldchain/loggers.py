"""Data-logger CSV import: a timestamp and a temperature every 5-30 minutes.

Bad rows, repeated timestamps and gaps are reported; good rows are imported (a dry run only
reports). A file whose header names no timestamp and temperature columns imports nothing. Rows
already recorded for this fridge are skipped, so importing an overlapping download is safe. An
out-of-range row opens (or extends) the fridge's incident, as a manual reading does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from server.coldchain import incidents, rules
from server.coldchain.readings import FUTURE_SLACK, fridge_row
from server.coldchain.schemas import LoggerImportIn, LoggerImportResult
from server.coldchain.tables import TemperatureReading
from server.core import audit
from server.core.auth import Principal
from server.core.service import site_zone
from server.db import write_transaction
from server.errors import InvalidInput

CHUNK = 500


async def import_logger(
    principal: Principal, site_id: int, location_id: int, data: LoggerImportIn, *, now: datetime
) -> LoggerImportResult:
    zone = await site_zone(site_id)
    fridge = await fridge_row(site_id, location_id)
    try:
        parsed = rules.parse_logger_csv(data.csv, zone, timedelta(minutes=data.gap_minutes))
    except rules.BadHeader as error:
        raise InvalidInput(
            f"{error} Nothing was imported.",
            code="csv_header_invalid",
            fields=[{"field": "csv", "message": str(error)}],
        ) from None
    future = [r for r in parsed.rows if r.taken_at > now + FUTURE_SLACK]
    parsed.errors.extend({"row": r.row, "message": "is in the future"} for r in future)
    parsed.errors.sort(key=lambda e: int(str(e["row"])))
    rows = [r for r in parsed.rows if r not in set(future)]
    async with write_transaction():
        fridge = await fridge_row(site_id, location_id, lock=True)
        low, high = fridge["low"], fridge["high"]
        stored: set[datetime] = set()
        if rows:
            stored = {
                r["taken_at"]
                for r in await TemperatureReading.select(TemperatureReading.taken_at).where(
                    (TemperatureReading.location == location_id)
                    & (TemperatureReading.source == "logger")
                    & (TemperatureReading.taken_at >= rows[0].taken_at)
                    & (TemperatureReading.taken_at <= rows[-1].taken_at)
                )
            }
        new = [r for r in rows if r.taken_at not in stored]
        out = [r for r in new if rules.out_of_range(r.tenths, None, None, low, high)]
        result = LoggerImportResult(
            dry_run=data.dry_run,
            rows=len(rows),
            imported=0 if data.dry_run else len(new),
            already_recorded=len(rows) - len(new),
            first=rows[0].taken_at if rows else None,
            last=rows[-1].taken_at if rows else None,
            out_of_range=len(out),
            incident_id=None,
            errors=parsed.errors,
            duplicates=parsed.duplicates,
            gaps=parsed.gaps,
        )
        if data.dry_run or not new:
            return result
        incident_id = None
        if out:
            values: list[int | None] = [r.tenths for r in out]
            incident_id = await incidents.excursion(
                principal, site_id, fridge, values, out[0].taken_at, now=now
            )
            back = [r for r in new if r.taken_at > out[-1].taken_at]
            if back:
                await incidents.back_in_range(location_id, back[0].taken_at)
        held = {r.row for r in out}
        for start in range(0, len(new), CHUNK):
            await TemperatureReading.insert(
                *[
                    TemperatureReading(
                        site=site_id,
                        location=location_id,
                        taken_at=r.taken_at,
                        current_tenths=r.tenths,
                        reset=False,
                        source="logger",
                        taken_by=principal.actor,
                        initials="",
                        note="",
                        incident=incident_id if r.row in held else None,
                        recorded_at=now,
                    )
                    for r in new[start : start + CHUNK]
                ]
            )
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="coldchain.logger_import",
            entity="location",
            entity_id=location_id,
            payload={
                "imported": len(new),
                "first": new[0].taken_at.isoformat(),
                "last": new[-1].taken_at.isoformat(),
                "out_of_range": len(out),
                "incident_id": incident_id,
                "bad_rows": len(parsed.errors),
                "duplicates": len(parsed.duplicates),
                "gaps": len(parsed.gaps),
            },
            now=now,
        )
    result.incident_id = incident_id
    return result
