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
    acknowledged_by_name: str = ""


class AlertCounts(Read):
    open: int
    critical: int
    unacknowledged: int


class AcknowledgeIn(Request):
    comment: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class SnoozeIn(Request):
    hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 30)]


Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class SubscriptionIn(Request):
    email: Email
    digest: bool = True
    immediate: bool = False


class SubscriptionRead(Read):
    email: str | None
    digest: bool
    immediate: bool
    allowed: list[str]  # what this person's role may choose


class AlertSettingsIn(Request):
    quiet_start: ClockTime | None = None
    quiet_end: ClockTime | None = None
    escalate_after_minutes: Annotated[int, msgspec.Meta(ge=5, le=24 * 60)] = 60
    digest_hour: Annotated[int, msgspec.Meta(ge=0, le=23)] = 7
    # Left out (null): unchanged, so a client that only sets quiet hours keeps the thresholds.
    expiry_days_vaccine: Annotated[int, msgspec.Meta(ge=1, le=365)] | None = None
    expiry_days_other: Annotated[int, msgspec.Meta(ge=1, le=365)] | None = None
    dirty_hours: Annotated[int, msgspec.Meta(ge=1, le=72)] | None = None
    order_overdue_days: Annotated[int, msgspec.Meta(ge=1, le=180)] | None = None


class AlertSettingsRead(Read):
    quiet_start: str | None
    quiet_end: str | None
    escalate_after_minutes: int
    digest_hour: int
    expiry_days_vaccine: int
    expiry_days_other: int
    dirty_hours: int
    order_overdue_days: int


class WebhookIn(Request):
    url: Annotated[str, msgspec.Meta(max_length=500, pattern=r"^https?://\S+$")]
    min_severity: Severity = Severity.WARNING


class WebhookRead(Read):
    id: int
    url: str
    min_severity: Severity
    active: bool
    secret: str | None = None  # shown once, when it is made
