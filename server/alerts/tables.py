"""Alerts: one open row per rule and subject (a partial unique index, in the migration), kept up to
date by the sweeps and resolved by them when the condition clears."""

from __future__ import annotations

from piccolo.columns import Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from server.core.tables import Site


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
