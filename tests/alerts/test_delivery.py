"""Delivering alerts to a real SMTP server process (aiosmtpd) and a real HTTP receiver."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import mailbox
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import pytest

from server.alerts.channels import MailSettings
from server.alerts.delivery import deliver
from server.alerts.delivery_rules import in_quiet_hours, next_attempt, quiet_until, signature
from server.alerts.sweep import sweep
from server.alerts.tables import Alert, AlertSettings, Delivery, Subscription, Webhook
from server.core.rules import LocationKind, Role
from server.core.tables import Site
from server.stock.tables import Item
from tests.factories import Client, login, make_location, make_site, make_user
from tests.stock.factories import make_item


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[tuple[MailSettings, Path]]:
    """aiosmtpd in its own process, storing what it receives in a Maildir."""
    port, maildir = _free_port(), tmp_path / "mail"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else "aiosmtpd exited"
                assert time.monotonic() < deadline, "aiosmtpd did not start"
                time.sleep(0.1)
        env = {
            "CLINITRACK_SMTP_URL": f"smtp://127.0.0.1:{port}",
            "CLINITRACK_MAIL_FROM": "alerts@clinic.test",
        }
        settings = MailSettings.from_env(env)
        assert settings is not None
        yield settings, maildir
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _mail(maildir: Path) -> list[Any]:
    return list(mailbox.Maildir(str(maildir), create=False)) if maildir.exists() else []


class Receiver:
    """A local HTTP endpoint standing in for a customer's webhook: answers `codes` in turn, then 200."""

    def __init__(self, codes: list[int]) -> None:
        self.codes, self.calls = codes, []  # type: list[int], list[tuple[dict[str, str], bytes]]
        self.server: asyncio.AbstractServer | None = None
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.calls.append((headers, body))
        code = self.codes.pop(0) if self.codes else 200
        writer.write(f"HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> Receiver:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hooks/clinitrack"
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def test_quiet_hours_backoff_and_signature_rules() -> None:
    assert in_quiet_hours(clock(23, 30), clock(22, 0), clock(6, 0))
    assert in_quiet_hours(clock(5, 59), clock(22, 0), clock(6, 0))
    assert not in_quiet_hours(clock(6, 0), clock(22, 0), clock(6, 0))
    assert in_quiet_hours(clock(12, 30), clock(12, 0), clock(13, 0)) and not in_quiet_hours(
        clock(13, 0), clock(12, 0), clock(13, 0)
    )
    assert not in_quiet_hours(clock(3, 0), None, None)
    late = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert quiet_until(late, clock(6, 0)) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert [next_attempt(n, now) - now for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (1, 2, 4)]  # type: ignore[operator]
    assert next_attempt(8, now) is None
    expected = hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert signature("s3cret", 1_700_000_000, b"{}") == f"t=1700000000,v1={expected}"


async def _clinic_with_people() -> dict[str, Any]:
    site = await make_site()  # America/Toronto
    # A supply room, not a fridge: fridges would add their due temperature readings to the mail.
    fridge = await make_location(site, "Supply Room", LocationKind.SUPPLY_ROOM)
    tdap = await make_item(site, "Tdap vaccine")
    await Item.update({Item.reorder_point: 5}).where(Item.id == tdap)  # none at all: critical
    people = {}
    for name, role in (("mo", Role.MANAGER), ("amy", Role.ASSISTANT), ("ivy", Role.INSPECTOR)):
        people[name] = await make_user(name, site_id=site, role=role)
    return {"site": site, "fridge": fridge, "tdap": tdap, **people}


async def test_critical_mail_escalation_digest_by_role_and_quiet_hours(
    client: Client, smtp_server: tuple[MailSettings, Path]
) -> None:
    mail, maildir = smtp_server
    d = await _clinic_with_people()
    site = d["site"]
    mo = await login(client, "mo")
    ok = await mo.post(
        f"/api/sites/{site}/alert-delivery/subscription",
        {"email": "mo@clinic.test", "digest": True, "immediate": True},
    )
    assert ok.status_code == 201, ok.text
    amy = await login(client, "amy")
    refused = await amy.post(
        f"/api/sites/{site}/alert-delivery/subscription",
        {"email": "amy@clinic.test", "digest": True, "immediate": True},
    )
    assert refused.status_code == 400 and refused.json()["code"] == "channel_not_allowed"
    assert await Subscription.count() == 1  # refused: nothing saved
    assert (
        await amy.post(
            f"/api/sites/{site}/alert-delivery/subscription", {"email": "amy@clinic.test", "digest": True}
        )
    ).status_code == 201

    # 10:00 in Toronto (15:00 UTC): the critical alert mails the manager at once; past the digest
    # hour, each person gets a digest of what concerns them (the assistant's leaves out ordering).
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    await sweep(now)
    outcome = await deliver(now, mail)
    assert (outcome.sent, outcome.failed) == (2, 0)
    messages = _mail(maildir)
    # The assistant's digest would hold only the ordering alert, which is not hers: no mail at all.
    assert sorted(m["To"] for m in messages) == ["mo@clinic.test", "mo@clinic.test"]
    urgent = next(m for m in messages if m["Subject"].startswith("URGENT"))
    assert urgent["Subject"] == "URGENT: Out of stock: Tdap vaccine (none usable left)"
    assert urgent["From"] == "alerts@clinic.test"
    digest = next(m for m in messages if not m["Subject"].startswith("URGENT"))
    assert digest["Subject"] == "Test Clinic: 1 to look at today, 1 urgent"
    assert "- [URGENT] Out of stock: Tdap vaccine" in digest.get_payload()

    # Running again sends nothing new; an hour unacknowledged escalates to the manager.
    assert (await deliver(now + timedelta(minutes=5), mail)).sent == 0
    later = now + timedelta(minutes=61)
    assert (await deliver(later, mail)).sent == 1
    escalations = [m for m in _mail(maildir) if m["Subject"].startswith("Not yet acknowledged")]
    assert [m["To"] for m in escalations] == ["mo@clinic.test"]
    assert len(_mail(maildir)) == len(messages) + 1

    # Quiet hours 22:00-06:00: a non-critical mail waits until they end, a critical one does not.
    await AlertSettings.insert(AlertSettings(site=site, quiet_start=clock(22, 0), quiet_end=clock(6, 0)))
    night = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 23:00 in Toronto
    await Delivery.insert(
        Delivery(
            key="test:quiet",
            site=site,
            channel="email",
            critical=False,
            target="mo@clinic.test",
            subject="quiet one",
            body="later",
            status="pending",
            attempts=0,
            next_attempt_at=night,
            last_error="",
            created_at=night,
        )
    )
    outcome = await deliver(night, mail)
    assert outcome.held == 1 and not any(m["Subject"] == "quiet one" for m in _mail(maildir))
    held = await Delivery.select().where(Delivery.key == "test:quiet").first()
    assert held["next_attempt_at"] == datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # 06:00 Toronto
    await deliver(datetime(2026, 12, 1, 11, 0, tzinfo=UTC), mail)
    assert any(m["Subject"] == "quiet one" for m in _mail(maildir))


async def test_webhooks_are_signed_and_retried(client: Client) -> None:
    d = await _clinic_with_people()
    site = d["site"]
    mo = await login(client, "mo")
    async with Receiver([500, 503]) as receiver:
        made = await mo.post(
            f"/api/sites/{site}/alert-delivery/webhooks", {"url": receiver.url, "min_severity": "critical"}
        )
        assert made.status_code == 201, made.text
        secret = made.json()["secret"]
        assert secret.startswith("whsec_")
        listed = (await mo.get(f"/api/sites/{site}/alert-delivery/webhooks")).json()
        assert listed[0]["secret"] is None  # shown once
        bad = await mo.post(f"/api/sites/{site}/alert-delivery/webhooks", {"url": "ftp://nope"})
        assert bad.status_code == 400 and await Webhook.count() == 1

        now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
        await sweep(now)
        first = await deliver(now, None)
        assert (first.sent, len(receiver.calls)) == (0, 1)  # the receiver answered 500
        row = await Delivery.select().where(Delivery.channel == "webhook").first()
        assert row["attempts"] == 1 and row["next_attempt_at"] == now + timedelta(minutes=1)
        assert (await deliver(now + timedelta(seconds=30), None)).sent == 0 and len(
            receiver.calls
        ) == 1  # not yet
        assert (await deliver(now + timedelta(minutes=1), None)).sent == 0  # 503
        assert (await deliver(now + timedelta(minutes=3), None)).sent == 1  # 1 + 2 minutes later: 200
        assert len(receiver.calls) == 3

    headers, body = receiver.calls[-1]
    stamp, mac = (part.split("=", 1)[1] for part in headers["x-clinitrack-signature"].split(","))
    assert hmac.compare_digest(
        mac, hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    )
    assert b'"rule": "out_of_stock"' in body and b'"event": "alert.opened"' in body
    assert await Alert.count() >= 1 and (await Site.count()) == 1
