"""Pure decisions for delivering alerts: who may get what, quiet hours, retries, signatures, digests."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from server.core.rules import Role

MAX_ATTEMPTS = 8
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}

# Channels each role may choose: inspectors read the logs, they get no alert mail; assistants get
# the daily digest of what they act on; managers and admins may also get critical alerts at once
# (and escalations, which go to them whatever they chose).
ROLE_CHANNELS: dict[Role, frozenset[str]] = {
    Role.ASSISTANT: frozenset({"digest"}),
    Role.MANAGER: frozenset({"digest", "immediate"}),
    Role.ADMIN: frozenset({"digest", "immediate"}),
    Role.INSPECTOR: frozenset(),
}
# Ordering stock is a manager's job: an assistant's digest leaves those rules out.
MANAGER_ONLY_RULES = frozenset({"low_stock", "out_of_stock"})


def allowed(role: Role, channel: str) -> bool:
    return channel in ROLE_CHANNELS.get(role, frozenset())


def in_quiet_hours(local: time, start: time | None, end: time | None) -> bool:
    """Quiet from ``start`` up to ``end`` in the site's local time; a window may cross midnight."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_until(local_now: datetime, end: time) -> datetime:
    """When the quiet window that ``local_now`` is in ends (today or tomorrow, local time)."""
    candidate = local_now.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return candidate if candidate > local_now else candidate + timedelta(days=1)


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """After ``attempts`` failures: retry in 1, 2, 4, ... minutes; None once it is time to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(minutes=2 ** (attempts - 1))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the receiver recomputes it with the
    shared secret and refuses old timestamps, so a captured call cannot be replayed later."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def severe_enough(severity: str, minimum: str) -> bool:
    return SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK.get(minimum, 1)


@dataclass(frozen=True)
class DigestLine:
    rule: str
    severity: str
    title: str


def digest_text(site_name: str, role: Role, lines: Iterable[DigestLine]) -> tuple[str, str] | None:
    """Subject and body of one person's daily digest, or None when there is nothing to say."""
    shown = [line for line in lines if not (role is Role.ASSISTANT and line.rule in MANAGER_ONLY_RULES)]
    if not shown:
        return None
    shown.sort(key=lambda line: -SEVERITY_RANK.get(line.severity, 0))
    critical = sum(1 for line in shown if line.severity == "critical")
    subject = f"{site_name}: {len(shown)} to look at today" + (f", {critical} urgent" if critical else "")
    labels = {"critical": "URGENT", "warning": "Soon", "info": "FYI"}
    body = "\n".join(
        [f"Good morning. What needs attention at {site_name}:", ""]
        + [f"- [{labels.get(line.severity, line.severity)}] {line.title}" for line in shown]
        + ["", "Open clinitrack to acknowledge or act on these."]
    )
    return subject, body
