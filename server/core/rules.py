"""Pure rules for core records: no I/O, unit-tested directly."""

from __future__ import annotations

import enum
import math
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class Role(enum.StrEnum):
    ASSISTANT = "assistant"
    MANAGER = "manager"
    INSPECTOR = "inspector"
    ADMIN = "admin"


# Higher rank may grant lower ranks; inspector is read-only and sits apart.
ROLE_RANK = {Role.INSPECTOR: 0, Role.ASSISTANT: 1, Role.MANAGER: 2, Role.ADMIN: 3}
READ_ROLES = frozenset(Role)
WRITE_ROLES = frozenset({Role.ASSISTANT, Role.MANAGER, Role.ADMIN})


class LocationKind(enum.StrEnum):
    FRIDGE = "fridge"
    FREEZER = "freezer"
    CABINET = "cabinet"
    ROOM = "room"
    SUPPLY_ROOM = "supply_room"


PROVINCES = {
    "AB": "Alberta",
    "BC": "British Columbia",
    "MB": "Manitoba",
    "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador",
    "NS": "Nova Scotia",
    "NT": "Northwest Territories",
    "NU": "Nunavut",
    "ON": "Ontario",
    "PE": "Prince Edward Island",
    "QC": "Quebec",
    "SK": "Saskatchewan",
    "YT": "Yukon",
}

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# OWASP ASVS 4.0 L1 2.1.1: at least 12 characters.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200


def normalize_username(raw: str) -> str:
    return raw.strip().lower()


def username_problem(username: str) -> str | None:
    if not USERNAME_RE.match(username):
        return "Use 2 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit."
    return None


def password_problem(password: str, *, username: str = "") -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if username and password.strip().lower() == username.lower():
        return "The password cannot be the username."
    if len(set(password)) < 4:
        return "Use more different characters."
    return None


def timezone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not a time zone name such as America/Toronto."
    if name not in available_timezones():
        return f"{name!r} is not a time zone name such as America/Toronto."
    return None


def province_problem(code: str) -> str | None:
    if code not in PROVINCES:
        return f"{code!r} is not a Canadian province or territory code such as ON or QC."
    return None


def can_grant(granter: Role, role: Role) -> bool:
    """A site admin grants any role; a manager only assistant or inspector; others nothing."""
    if granter is Role.ADMIN:
        return True
    if granter is Role.MANAGER:
        return role in (Role.ASSISTANT, Role.INSPECTOR)
    return False


# --- own label codes ---------------------------------------------------------
# Format: one letter for the kind of thing, six random base-36 characters, one
# ISO 7064 MOD 37,36 check character. Eight uppercase characters fit Code 128,
# QR alphanumeric mode and hand-typing, and a single mistyped character is caught.
LABEL_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LABEL_PREFIXES = {"location": "L", "item": "I", "device": "D", "pack": "P", "sterilizer": "S"}
LABEL_CODE_RE = re.compile(r"^[A-Z][0-9A-Z]{6}[0-9A-Z]$")


def label_check_char(body: str) -> str:
    modulus = len(LABEL_ALPHABET)
    product = modulus
    for ch in body:
        total = (product + LABEL_ALPHABET.index(ch)) % modulus
        total = total or modulus
        product = (total * 2) % (modulus + 1)
    return LABEL_ALPHABET[(modulus + 1 - product) % modulus]


def new_label_code(kind: str) -> str:
    body = LABEL_PREFIXES[kind] + "".join(secrets.choice(LABEL_ALPHABET) for _ in range(6))
    return body + label_check_char(body)


def label_code_valid(code: str) -> bool:
    code = code.strip().upper()
    return bool(LABEL_CODE_RE.match(code)) and label_check_char(code[:-1]) == code[-1]


# --- login throttling --------------------------------------------------------
THROTTLE_WINDOW = timedelta(minutes=1)
THROTTLE_LIMIT = 5


def throttle_retry_after(failures: Sequence[datetime], now: datetime) -> int | None:
    """Seconds to wait when the recent failures reach the limit, else None."""
    recent = sorted(at for at in failures if now - at < THROTTLE_WINDOW)
    if len(recent) < THROTTLE_LIMIT:
        return None
    # The window frees up when the oldest failure that keeps us at the limit ages out.
    pivot = recent[len(recent) - THROTTLE_LIMIT]
    return max(1, math.ceil((pivot + THROTTLE_WINDOW - now).total_seconds()))
