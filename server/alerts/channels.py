"""Sending: e-mail over SMTP and signed webhook calls. Each returns nothing or raises SendError."""

from __future__ import annotations

import asyncio
import json
import os
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from server.alerts.delivery_rules import signature
from server.config import ConfigError


class SendError(Exception):
    pass


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    starttls: bool
    ssl: bool
    username: str | None
    password: str | None
    sender: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MailSettings | None:
        """`CLINITRACK_SMTP_URL`: `smtp://[user:password@]host[:port]` (plain, port 25),
        `smtp+starttls://...` (port 587) or `smtps://...` (port 465); unset: no e-mail.
        `CLINITRACK_MAIL_FROM`: the sender address."""
        env = os.environ if env is None else env
        raw = env.get("CLINITRACK_SMTP_URL", "").strip()
        if not raw:
            return None
        parts = urlsplit(raw)
        ports = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
        if parts.scheme not in ports or not parts.hostname:
            raise ConfigError("CLINITRACK_SMTP_URL: use smtp://host:port, smtp+starttls://... or smtps://...")
        sender = env.get("CLINITRACK_MAIL_FROM", "").strip() or f"clinitrack@{parts.hostname}"
        if "@" not in sender:
            raise ConfigError(f"CLINITRACK_MAIL_FROM: {sender!r} is not an e-mail address")
        return cls(
            host=parts.hostname,
            port=parts.port or ports[parts.scheme],
            starttls=parts.scheme == "smtp+starttls",
            ssl=parts.scheme == "smtps",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=sender,
        )


def _send_mail(settings: MailSettings, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.sender.split("@", 1)[1])
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if settings.ssl else smtplib.SMTP
    try:
        with smtp_class(settings.host, settings.port, timeout=20) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"mail to {to} failed: {exc}") from exc


async def send_mail(settings: MailSettings, to: str, subject: str, body: str) -> None:
    await asyncio.to_thread(_send_mail, settings, to, subject, body)


async def call_webhook(url: str, secret: str, body: str, *, now: float | None = None) -> None:
    # Imported here: httpx brings rich, pygments and click for its command line, 4 MiB in every
    # worker, and only the leader's delivery job sends webhooks.
    import httpx

    payload = body.encode()
    stamp = int(now if now is not None else time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "clinitrack-webhooks",
        "x-clinitrack-signature": signature(secret, stamp, payload),
    }
    try:
        async with httpx.AsyncClient(timeout=10, follow_redirects=False) as client:
            resp = await client.post(url, content=payload, headers=headers)
    except httpx.HTTPError as exc:
        raise SendError(f"webhook {url} unreachable: {exc}") from exc
    if resp.status_code >= 300:
        raise SendError(f"webhook {url} answered {resp.status_code}")


def webhook_body(event: str, alert: Mapping[str, object]) -> str:
    return json.dumps({"event": event, "alert": dict(alert)}, default=str, sort_keys=True)
