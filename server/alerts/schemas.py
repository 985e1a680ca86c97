"""What the alerts API reads and takes."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

import msgspec

from server.schemas import Read, Request


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertRead(Read):
    id: int
    rule: str
    subject: str
    severity: Severity
    title: str
    subject_name: str
    quantity: int | None
    due: date | None
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str
    ack_comment: str
    snoozed_until: datetime | None


class AlertCounts(Read):
    open: int
    critical: int
    unacknowledged: int


class AcknowledgeIn(Request):
    comment: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class SnoozeIn(Request):
    hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 30)]
