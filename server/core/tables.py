"""Core tables. Foreign keys RESTRICT: a record must never vanish because a parent was deleted."""

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
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


class Site(Table):
    id: Serial
    name = Varchar(length=200)
    province = Varchar(length=2)
    timezone = Varchar(length=64)
    active = Boolean(default=True)
    created_at = Timestamptz()


class Location(Table):
    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=200)
    kind = Varchar(length=20)
    label_code = Varchar(length=16, unique=True)
    active = Boolean(default=True)
    created_at = Timestamptz()


class AppUser(Table, tablename="app_user"):
    id: Serial
    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=200)
    password_hash = Text()
    is_superuser = Boolean(default=False)
    active = Boolean(default=True)
    locale = Varchar(length=5, default="en")
    created_at = Timestamptz()
    password_changed_at = Timestamptz()


class Membership(Table):
    """One role per user and site (unique index added in the migration)."""

    id: Serial

    user = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=False, index=True)
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    role = Varchar(length=16)
    created_at = Timestamptz()


class UserSession(Table, tablename="user_session"):
    id: Serial
    token_hash = Varchar(length=64, unique=True)
    csrf_token = Varchar(length=64)
    user = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=False, index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)
    ip = Varchar(length=64)


class ApiToken(Table, tablename="api_token"):
    id: Serial
    name = Varchar(length=100)
    prefix = Varchar(length=16)
    token_hash = Varchar(length=64, unique=True)
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    role = Varchar(length=16)
    created_by = ForeignKey(references=AppUser, on_delete=OnDelete.restrict, null=False)
    created_at = Timestamptz()
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class LoginFailure(Table, tablename="login_failure"):
    """Recent failed logins, by account and by address, for throttling across workers."""

    id: Serial

    key = Varchar(length=200, index=True)
    at = Timestamptz(index=True)


class AuditHead(Table, tablename="audit_head"):
    """The tip of each chain; its row lock serializes appends to one chain."""

    id: Serial

    chain = Varchar(length=40, unique=True)
    seq = BigInt(default=0)
    last_hash = Varchar(length=64)


class AuditEvent(Table, tablename="audit_event"):
    """Append-only; (chain, seq) is unique (index added in the migration)."""

    id: Serial

    chain = Varchar(length=40)
    seq = BigInt()
    at = Timestamptz()
    actor = Varchar(length=80)
    site_id = Integer(null=True, default=None, index=True)
    action = Varchar(length=80)
    entity = Varchar(length=80)
    entity_id = Varchar(length=80)
    payload = JSON()
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class ClientWrite(Table, tablename="client_write"):
    """Exactly-once writes: one row per client-generated id, with the original answer."""

    id: Serial

    key = UUID(unique=True)
    actor = Varchar(length=80)
    fingerprint = Varchar(length=64)
    response = Text()
    created_at = Timestamptz(index=True)


class JobRun(Table, tablename="job_run"):
    """One row per scheduled job and firing slot: a slot claimed here never runs twice, whichever
    worker (or a cron `run-once`) gets to it first."""

    id: Serial

    key = Varchar(length=120, unique=True)  # "<job>@<slot, ISO 8601 UTC>"
    job = Varchar(length=60)
    slot = Timestamptz()
    ran_at = Timestamptz()
