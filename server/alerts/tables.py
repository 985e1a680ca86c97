"""Alerts: one open row per rule and subject (a partial unique index, in the migration), kept up to
date by the sweeps and resolved by them when the condition clears."""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from server.core.tables import AppUser, Site


class Alert(Table):
    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    rule = Varchar(length=40)
    subject = Varchar(length=80)  # what it is about, stable across sweeps: "item:12", "lot:40"
    severity = Varchar(length=16)  # info, warning, critical
    title = Text()  # English, for e-mail and logs; the client words it from rule + the fields below
    subject_name = Varchar(length=300)
    quantity = Integer(null=True, default=None)
    due = Date(null=True, default=None)
    first_seen = Timestamptz()
    last_seen = Timestamptz(index=True)
    resolved_at = Timestamptz(null=True, default=None)
    acknowledged_at = Timestamptz(null=True, default=None)
    acknowledged_by = Varchar(length=80)
    ack_comment = Text()
    snoozed_until = Timestamptz(null=True, default=None)
    escalated_at = Timestamptz(null=True, default=None)
    notified_at = Timestamptz(null=True, default=None)  # immediate mail and webhooks planned


class AlertSettings(Table, tablename="alert_settings"):
    """Per site: quiet hours (local time; only critical alerts go out then), escalation, digest hour."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, unique=True)
    quiet_start = Time(null=True, default=None)
    quiet_end = Time(null=True, default=None)
    escalate_after_minutes = Integer(default=60)
    digest_hour = Integer(default=7)
    # When the rules speak up (issue 9's defaults; the sweeps read them per site).
    expiry_days_vaccine = Integer(default=30)
    expiry_days_other = Integer(default=60)
    dirty_hours = Integer(default=4)
    order_overdue_days = Integer(default=14)


class Subscription(Table):
    """A person's alert mail at one site: the address and what they want, within their role."""

    id: Serial
    user = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=False, index=True)
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    email = Varchar(length=254)
    digest = Boolean(default=True)
    immediate = Boolean(default=False)


class Webhook(Table):
    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    url = Varchar(length=500)
    secret = Varchar(length=100)
    min_severity = Varchar(length=16, default="warning")
    active = Boolean(default=True)
    created_at = Timestamptz()


class Delivery(Table):
    """An e-mail or webhook call to make: kept until sent, retried with backoff, never sent twice
    (its key is unique)."""

    id: Serial
    key = Varchar(length=200, unique=True)
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    channel = Varchar(length=16)  # email, webhook
    critical = Boolean(default=False)  # goes out during quiet hours
    target = Varchar(length=500)  # an address or a URL
    subject = Varchar(length=300)
    body = Text()
    webhook = ForeignKey(references=Webhook, on_delete=OnDelete.restrict, null=True, default=None)
    status = Varchar(length=16, default="pending")  # pending, sent, failed
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    last_error = Text()
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)


class AlertSiteSeen(Table, tablename="alert_site_seen"):
    """Per site: the audit chain's length and the (UTC) day the stock rules last covered it. Every
    change to a site's records lengthens its chain (design §3), so a site whose chain is as long as
    this and whose day is today has nothing new for those rules."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, unique=True)
    seq = BigInt(default=0)
    day = Date()


class AlertSighting(Table, tablename="alert_sighting"):
    """Per rule and site: when a sweep last read that site for that rule. An open alert was seen
    then (the sweep writes an alert's row only when its wording or figures change: rewriting 100 k
    unchanged rows a minute cost more than finding them); unique on (rule, site) in the migration."""

    id: Serial
    rule = Varchar(length=40)
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False)
    at = Timestamptz()
