"""Cleaning tables. Every table carries site_id.

A plan's checklist and disinfectant live in numbered versions: editing a plan adds a version and
never changes an old one, and each log also keeps its own copy of the items, the product, DIN and
contact time it was done with. Logs, requests and audits are append-only: a wrong log is corrected
by a new log that names it (``corrects``) with a reason; the original stays, and a unique index keeps
one correction per log (a later fix corrects the correction).
"""

from piccolo.columns import (
    Boolean,
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


class CleaningPlan(Table, tablename="cleaning_plan"):
    """What to clean in one room and when: kind, schedule (local time at the site) and version."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    room = ForeignKey(references=Location, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=20)
    name = Varchar(length=200)
    due_time = Varchar(length=5, default="")
    weekday = Integer(null=True, default=None)
    due_within_minutes = Integer(null=True, default=None)
    version = Integer(default=1)
    active = Boolean(default=True)
    retired_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class CleaningPlanVersion(Table, tablename="cleaning_plan_version"):
    """One version of a plan's checklist (JSON list of item texts) and disinfectant."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False)
    plan = ForeignKey(references=CleaningPlan, on_delete=OnDelete.restrict, null=False, index=True)
    version = Integer()
    items = Text()
    product = Varchar(length=200)
    din = Varchar(length=16)
    contact_seconds = Integer(null=True, default=None)
    created_by = Varchar(length=80)
    created_at = Timestamptz()


class CleaningRequest(Table, tablename="cleaning_request"):
    """An on-demand plan (between patients, terminal) asked for: due until a log follows it."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    plan = ForeignKey(references=CleaningPlan, on_delete=OnDelete.restrict, null=False, index=True)
    requested_at = Timestamptz(index=True)
    requested_by = Varchar(length=80)
    note = Text()


class CleaningLog(Table, tablename="cleaning_log"):
    """One cleaning done: who, when, with what, and a copy of the checklist as it was."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    room = ForeignKey(references=Location, on_delete=OnDelete.restrict, null=False, index=True)
    plan = ForeignKey(references=CleaningPlan, on_delete=OnDelete.restrict, null=False, index=True)
    plan_version = ForeignKey(references=CleaningPlanVersion, on_delete=OnDelete.restrict, null=False)
    kind = Varchar(length=20)
    product = Varchar(length=200)
    din = Varchar(length=16)
    contact_seconds = Integer(null=True, default=None)
    started_at = Timestamptz()
    ended_at = Timestamptz(index=True)
    actor = Varchar(length=80)
    actor_name = Varchar(length=200)
    visit_code = Varchar(length=64)
    note = Text()
    items_done = Integer(default=0)
    items_skipped = Integer(default=0)
    recorded_at = Timestamptz()
    # NO ACTION (checked at the statement's end): a corrected log still cannot be deleted alone.
    corrects: ForeignKey["CleaningLog"] = ForeignKey(
        references="self", on_delete=OnDelete.no_action, null=True, default=None
    )
    reason = Text()
    # A correction that withdraws what it corrects: not done, or logged for the wrong room or plan.
    void = Boolean(default=False)


class CleaningLogItem(Table, tablename="cleaning_log_item"):
    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False)
    log = ForeignKey(references=CleaningLog, on_delete=OnDelete.restrict, null=False, index=True)
    position = Integer()
    text = Varchar(length=200)
    done = Boolean(default=False)
    skip_reason = Text()


class CleaningAudit(Table, tablename="cleaning_audit"):
    """A check of a room's cleaning: visual, fluorescent marker or ATP; pass or fail, score, comments."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    room = ForeignKey(references=Location, on_delete=OnDelete.restrict, null=False, index=True)
    plan = ForeignKey(references=CleaningPlan, on_delete=OnDelete.restrict, null=True, default=None)
    method = Varchar(length=20)
    passed = Boolean(default=False)
    score = Integer(null=True, default=None)
    comments = Text()
    audited_at = Timestamptz(index=True)
    actor = Varchar(length=80)
    actor_name = Varchar(length=200)
    recorded_at = Timestamptz()
