"""Cold chain tables. Temperatures are stored as whole tenths of a degree Celsius (5.3 °C = 53):
exact on both engines, and the log's resolution is 0.1 °C.

Readings are append-only. An incident's workflow fields are filled in once each, in order.
"""

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from server.core.tables import Location, Site
from server.stock.tables import Lot


class FridgeSetting(Table, tablename="fridge_setting"):
    """The allowed range of one fridge or freezer (without a row: the default for its kind)."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict, null=False, unique=True)
    low_tenths = Integer(default=20)
    high_tenths = Integer(default=80)
    updated_by = Varchar(length=80)
    updated_at = Timestamptz()


class ReadingSchedule(Table, tablename="reading_schedule"):
    """A site's reading times ("09:00,16:00", in the site's time zone) and the grace before overdue."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, unique=True)
    times = Varchar(length=64, default="09:00,16:00")
    grace_minutes = Integer(default=60)
    updated_by = Varchar(length=80)
    updated_at = Timestamptz()


class ClosedDay(Table, tablename="closed_day"):
    """A day the clinic is closed: no readings are due (the log sheet shows "closed")."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    day = Date()
    note = Text()
    created_by = Varchar(length=80)
    created_at = Timestamptz()


class ColdChainIncident(Table, tablename="coldchain_incident"):
    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict, null=False, index=True)
    status = Varchar(length=16, default="open")
    since = Timestamptz(null=True, default=None)  # the last in-range reading before it: exposure began after
    started_at = Timestamptz()  # the first out-of-range reading
    ended_at = Timestamptz(null=True, default=None)  # the first in-range reading after it
    lowest_tenths = Integer()
    highest_tenths = Integer()
    low_tenths = Integer()  # the range in force
    high_tenths = Integer()
    opened_by = Varchar(length=80)
    phu_notified_by = Varchar(length=80)
    phu_notified_at = Timestamptz(null=True, default=None)
    phu_contact = Text()
    logs_sent_by = Varchar(length=80)
    logs_sent_at = Timestamptz(null=True, default=None)
    closed_by = Varchar(length=80)
    closed_at = Timestamptz(null=True, default=None)
    summary = Text()


class IncidentLot(Table, tablename="coldchain_incident_lot"):
    """A lot that was in the fridge when the excursion was found: a snapshot, and its decision."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False)
    incident = ForeignKey(references=ColdChainIncident, on_delete=OnDelete.restrict, null=False, index=True)
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict, null=False, index=True)
    item_name = Varchar(length=200)
    lot_number = Varchar(length=40)
    expiry = Date(null=True, default=None)
    quantity = Integer()
    opened_vials = Integer(default=0)
    status_before = Varchar(length=16)
    decision = Varchar(length=16)  # "" until decided: released, discarded or returned
    decided_by = Varchar(length=80)
    decided_at = Timestamptz(null=True, default=None)
    note = Text()


class TemperatureReading(Table, tablename="temperature_reading"):
    """One reading (append-only): current, and the min/max since the last reset (manual readings)."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict, null=False)
    taken_at = Timestamptz()
    current_tenths = Integer()
    min_tenths = Integer(null=True, default=None)
    max_tenths = Integer(null=True, default=None)
    reset = Boolean(default=False)
    source = Varchar(length=16, default="manual")
    taken_by = Varchar(length=80)
    initials = Varchar(length=8)
    note = Text()
    incident = ForeignKey(references=ColdChainIncident, on_delete=OnDelete.restrict, null=True, default=None)
    recorded_at = Timestamptz()
    # A correction is a new reading for the same time that names the one it corrects, with a reason.
    # NO ACTION (checked at the statement's end): a corrected reading still cannot be deleted alone.
    corrects: ForeignKey["TemperatureReading"] = ForeignKey(
        references="self", on_delete=OnDelete.no_action, null=True, default=None
    )
    reason = Text()
