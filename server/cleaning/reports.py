"""Cleaning records for managers and inspectors: the log by room, plan and dates (CSV and PDF),
audits (visual, fluorescent marker, ATP) and compliance per room, plan and week."""

from __future__ import annotations

import base64
import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from server.cleaning import rules
from server.cleaning.plans import list_plans, room_row
from server.cleaning.rules import AuditMethod, PlanFacts, PlanKind
from server.cleaning.schemas import AuditCreate, AuditRead, ComplianceRead, LogItemRead, LogPage, LogRead
from server.cleaning.service import counted, schedule_of
from server.cleaning.tables import CleaningAudit, CleaningLog, CleaningLogItem, CleaningRequest
from server.core import audit
from server.core.auth import Principal
from server.core.service import site_zone
from server.csvcell import cell
from server.db import write_transaction
from server.errors import InvalidInput, NotFound

MAX_RANGE = timedelta(days=400)


@dataclass(frozen=True)
class LogFilter:
    room_id: int | None = None
    plan_id: int | None = None
    start: datetime | None = None  # ended at or after
    end: datetime | None = None  # ended before


def _where(site_id: int, f: LogFilter) -> Any:
    where: Any = CleaningLog.site == site_id
    if f.room_id is not None:
        where &= CleaningLog.room == f.room_id
    if f.plan_id is not None:
        where &= CleaningLog.plan == f.plan_id
    if f.start is not None:
        where &= CleaningLog.ended_at >= f.start
    if f.end is not None:
        where &= CleaningLog.ended_at < f.end
    return where


def _cursor(text: str) -> tuple[datetime, int]:
    try:
        at, _, log_id = base64.urlsafe_b64decode(text.encode()).decode().partition("|")
        return datetime.fromisoformat(at), int(log_id)
    except ValueError as exc:
        raise InvalidInput(
            "This page link is not valid. Start from the first page.", code="bad_cursor"
        ) from exc


_LOG_COLUMNS = (
    *CleaningLog.all_columns(),
    CleaningLog.room.name,
    CleaningLog.plan.name,
    CleaningLog.plan_version.version,
)


def _log(row: dict[str, Any], items: list[LogItemRead]) -> LogRead:
    return LogRead(
        id=row["id"],
        room_id=row["room"],
        room_name=row["room.name"],
        plan_id=row["plan"],
        plan_name=row["plan.name"],
        kind=PlanKind(row["kind"]),
        version=row["plan_version.version"],
        product=row["product"],
        din=row["din"],
        contact_seconds=row["contact_seconds"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        actor=row["actor"],
        actor_name=row["actor_name"],
        visit_code=row["visit_code"],
        note=row["note"],
        items_done=row["items_done"],
        items_skipped=row["items_skipped"],
        items=items,
        corrects=row["corrects"],
        reason=row["reason"],
        void=bool(row["void"]),
    )


async def _page(rows: list[dict[str, Any]]) -> list[LogRead]:
    """Logs with their items, and which later log corrects each one (two queries)."""
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    items: dict[int, list[LogItemRead]] = defaultdict(list)
    for r in await (
        CleaningLogItem.select().where(CleaningLogItem.log.is_in(ids)).order_by(CleaningLogItem.position)
    ):
        items[r["log"]].append(
            LogItemRead(position=r["position"], text=r["text"], done=r["done"], skip_reason=r["skip_reason"])
        )
    corrected_by = {
        r["corrects"]: r["id"]
        for r in await CleaningLog.select(CleaningLog.id, CleaningLog.corrects).where(
            CleaningLog.corrects.is_in(ids)
        )
    }
    logs = [_log(r, items[r["id"]]) for r in rows]
    for log in logs:
        log.corrected_by = corrected_by.get(log.id)
    return logs


async def get_log(site_id: int, log_id: int) -> LogRead:
    row = await (
        CleaningLog.select(*_LOG_COLUMNS)
        .where((CleaningLog.id == log_id) & (CleaningLog.site == site_id))
        .first()
    )
    if row is None:
        raise NotFound("This cleaning log does not exist at this site.", code="log_not_found")
    return (await _page([row]))[0]


async def list_logs(site_id: int, f: LogFilter, *, cursor: str = "", limit: int = 50) -> LogPage:
    """Newest first (by end time), keyset pages; each log with its checklist as it was done."""
    where = _where(site_id, f)
    if cursor:
        at, log_id = _cursor(cursor)
        where &= (CleaningLog.ended_at < at) | ((CleaningLog.ended_at == at) & (CleaningLog.id < log_id))
    rows = await (
        CleaningLog.select(*_LOG_COLUMNS)
        .where(where)
        .order_by(CleaningLog.ended_at, ascending=False)
        .order_by(CleaningLog.id, ascending=False)
        .limit(limit + 1)
    )
    page, more = rows[:limit], len(rows) > limit
    logs = await _page(page)
    next_cursor = None
    if more:
        last = logs[-1]
        next_cursor = base64.urlsafe_b64encode(f"{last.ended_at.isoformat()}|{last.id}".encode()).decode()
    return LogPage(logs=logs, next_cursor=next_cursor)


async def all_logs(site_id: int, f: LogFilter) -> list[LogRead]:
    found: list[LogRead] = []
    cursor = ""
    while True:
        page = await list_logs(site_id, f, cursor=cursor, limit=500)
        found.extend(page.logs)
        if not page.next_cursor:
            return found
        cursor = page.next_cursor


# --- CSV and PDF --------------------------------------------------------------------------------------

CSV_COLUMNS = [
    "log_id",
    "room",
    "plan",
    "kind",
    "version",
    "started_at",
    "ended_at",
    "by",
    "product",
    "din",
    "contact_seconds",
    "items_done",
    "items_skipped",
    "skipped",
    "visit_code",
    "note",
    "corrects",
    "correction_reason",
    "corrected_by",
    "void",
]


def _local(at: datetime, tz: Any) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def logs_to_csv(logs: Iterable[LogRead], tz: Any) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for log in logs:
        skipped = "; ".join(f"{i.text}: {i.skip_reason}" for i in log.items if not i.done)
        row = [
            log.id,
            log.room_name,
            log.plan_name,
            log.kind.value,
            log.version,
            _local(log.started_at, tz),
            _local(log.ended_at, tz),
            log.actor_name,
            log.product,
            log.din,
            log.contact_seconds,
            log.items_done,
            log.items_skipped,
            skipped,
            log.visit_code,
            log.note,
            log.corrects or "",
            log.reason,
            log.corrected_by or "",
            "yes" if log.void else "",
        ]
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


async def export_csv(site_id: int, f: LogFilter) -> str:
    return logs_to_csv(await all_logs(site_id, f), await site_zone(site_id))


def logs_to_pdf(logs: list[LogRead], tz: Any, title: str) -> bytes:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buf, pagesize=(width, height), invariant=True)
    pdf.setTitle(title)
    columns = [
        (30, "Log"),
        (62, "Ended"),
        (160, "Room"),
        (260, "Plan"),
        (395, "By"),
        (520, "Product / DIN"),
        (680, "Items"),
    ]

    def header() -> float:
        pdf.setFont("Helvetica-Bold", 12)
        pdf.drawString(30, height - 30, title)
        pdf.setFont("Helvetica-Bold", 8)
        for x, text in columns:
            pdf.drawString(x, height - 50, text)
        return float(height - 64)

    y = header()
    pdf.setFont("Helvetica", 8)

    def room_for_a_line(y: float) -> float:
        if y >= 40:
            return y
        pdf.showPage()
        y = header()
        pdf.setFont("Helvetica", 8)
        return y

    for log in logs:
        y = room_for_a_line(y)
        cells = [
            f"#{log.id}",
            _local(log.ended_at, tz),
            log.room_name[:22],
            log.plan_name[:30],
            log.actor_name[:28],
            f"{log.product[:24]} {log.din}".strip(),
            f"{log.items_done} done, {log.items_skipped} skipped",
        ]
        for (x, _), text in zip(columns, cells, strict=True):
            pdf.drawString(x, y, text)
        notes = []
        if log.corrects is not None:
            void = " (withdrawn: not done or wrong room/plan)" if log.void else ""
            notes.append((160, f"Correction of #{log.corrects}{void}: {log.reason[:100]}"))
        if log.corrected_by is not None:
            notes.append((160, f"CORRECTED by #{log.corrected_by}: does not count; see that entry."))
        notes += [
            (260, f"Skipped: {item.text[:50]} ({item.skip_reason[:70]})")
            for item in log.items
            if not item.done
        ]
        for x, text in notes:
            y = room_for_a_line(y - 12)
            pdf.drawString(x, y, text)
        y -= 12
    if not logs:
        pdf.drawString(30, y, "No cleaning logs match.")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


async def export_pdf(site_id: int, f: LogFilter) -> bytes:
    tz = await site_zone(site_id)
    title = "Cleaning log"
    if f.start or f.end:
        start = f.start.astimezone(tz).date().isoformat() if f.start else "..."
        end = f.end.astimezone(tz).date().isoformat() if f.end else "..."
        title += f" {start} to {end}"
    return logs_to_pdf(await all_logs(site_id, f), tz, title)


# --- audits -------------------------------------------------------------------------------------------

_AUDIT_COLUMNS = (*CleaningAudit.all_columns(), CleaningAudit.room.name)


def _audit(row: dict[str, Any]) -> AuditRead:
    return AuditRead(
        id=row["id"],
        room_id=row["room"],
        room_name=row["room.name"],
        plan_id=row["plan"],
        method=AuditMethod(row["method"]),
        passed=bool(row["passed"]),
        score=row["score"],
        comments=row["comments"],
        audited_at=row["audited_at"],
        actor=row["actor"],
        actor_name=row["actor_name"],
    )


async def record_audit(principal: Principal, site_id: int, data: AuditCreate, *, now: datetime) -> AuditRead:
    if data.audited_at > now + rules.CLOCK_SKEW:
        raise InvalidInput(
            "The audit time is in the future.",
            code="audit_in_future",
            fields=[{"field": "audited_at", "message": "Give the time of the check."}],
        )
    async with write_transaction():
        await room_row(site_id, data.room_id)
        if data.plan_id is not None and not any(
            p.id == data.plan_id
            for p in await list_plans(site_id, room_id=data.room_id, include_inactive=True)
        ):
            raise NotFound("This cleaning plan does not exist for this room.", code="plan_not_found")
        rows = await CleaningAudit.insert(
            CleaningAudit(
                site=site_id,
                room=data.room_id,
                plan=data.plan_id,
                method=data.method.value,
                passed=data.passed,
                score=data.score,
                comments=data.comments,
                audited_at=data.audited_at,
                actor=principal.actor,
                actor_name=principal.display_name,
                recorded_at=now,
            )
        ).returning(CleaningAudit.id)
        row = await CleaningAudit.select(*_AUDIT_COLUMNS).where(CleaningAudit.id == rows[0]["id"]).first()
        if row is None:
            raise NotFound("The audit just recorded was not found.", code="audit_not_found")
        result = _audit(row)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="cleaning_audit.create",
            entity="cleaning_audit",
            entity_id=result.id,
            payload=msgspec.to_builtins(result),
            now=now,
        )
    return result


async def list_audits(site_id: int, f: LogFilter) -> list[AuditRead]:
    where: Any = CleaningAudit.site == site_id
    if f.room_id is not None:
        where &= CleaningAudit.room == f.room_id
    if f.plan_id is not None:
        where &= CleaningAudit.plan == f.plan_id
    if f.start is not None:
        where &= CleaningAudit.audited_at >= f.start
    if f.end is not None:
        where &= CleaningAudit.audited_at < f.end
    rows = await (
        CleaningAudit.select(*_AUDIT_COLUMNS)
        .where(where)
        .order_by(CleaningAudit.audited_at, ascending=False)
        .limit(1000)
    )
    return [_audit(r) for r in rows]


# --- compliance ---------------------------------------------------------------------------------------


async def compliance(site_id: int, f: LogFilter, *, now: datetime) -> list[ComplianceRead]:
    """On-time percentage per room, plan and local ISO week, over [start, end) (default: 4 weeks)."""
    end = f.end or now
    start = f.start or end - timedelta(days=28)
    if end <= start or end - start > MAX_RANGE:
        raise InvalidInput(
            "Pick a start before the end, at most 400 days apart.",
            code="bad_range",
            fields=[{"field": "start", "message": "Check the dates."}],
        )
    tz = await site_zone(site_id)
    plans = [
        p
        for p in await list_plans(site_id, room_id=f.room_id, include_inactive=True)
        if f.plan_id is None or p.id == f.plan_id
    ]
    ids = [p.id for p in plans]
    done: dict[int, list[datetime]] = defaultdict(list)
    asked: dict[int, list[datetime]] = defaultdict(list)
    if ids:
        # Logs up to a week after the range still settle its last occurrences (late or on time).
        # A corrected log is replaced by its correction: only logs no one corrects count.
        for r in await CleaningLog.select(CleaningLog.plan, CleaningLog.ended_at).where(
            counted(site_id)
            & CleaningLog.plan.is_in(ids)
            & (CleaningLog.ended_at >= start)
            & (CleaningLog.ended_at < end + timedelta(days=8))
        ):
            done[r["plan"]].append(r["ended_at"])
        for r in await CleaningRequest.select(CleaningRequest.plan, CleaningRequest.requested_at).where(
            CleaningRequest.plan.is_in(ids)
            & (CleaningRequest.requested_at >= start)
            & (CleaningRequest.requested_at < end + timedelta(days=8))
        ):
            asked[r["plan"]].append(r["requested_at"])
    facts = [
        PlanFacts(p.id, p.room_id, schedule_of(p), done[p.id], asked[p.id], p.created_at, p.retired_at)
        for p in plans
    ]
    by_id = {p.id: p for p in plans}
    return [
        ComplianceRead(
            room_id=row.room_id,
            room_name=by_id[row.plan_id].room_name,
            plan_id=row.plan_id,
            plan_name=by_id[row.plan_id].name,
            kind=by_id[row.plan_id].kind,
            week=row.week,
            expected=row.expected,
            on_time=row.on_time,
            late=row.late,
            missed=row.missed,
            on_time_percent=row.on_time_percent,
        )
        for row in rules.compliance(facts, tz, start, end, now)
    ]
