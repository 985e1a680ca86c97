from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.core import audit
from server.core.rules import (
    Role,
    can_grant,
    label_check_char,
    label_code_valid,
    new_label_code,
    password_problem,
    province_problem,
    throttle_retry_after,
    timezone_problem,
    username_problem,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_throttle_allows_four_recent_failures() -> None:
    assert throttle_retry_after([NOW - timedelta(seconds=s) for s in (1, 2, 3, 4)], NOW) is None


def test_throttle_blocks_the_fifth_until_the_oldest_ages_out() -> None:
    failures = [NOW - timedelta(seconds=s) for s in (50, 40, 30, 20, 10)]
    assert throttle_retry_after(failures, NOW) == 10


def test_throttle_forgets_failures_older_than_a_minute() -> None:
    failures = [NOW - timedelta(seconds=s) for s in (61, 70, 80, 90, 100, 5)]
    assert throttle_retry_after(failures, NOW) is None


def test_label_codes_carry_a_check_character() -> None:
    code = new_label_code("location")
    assert len(code) == 8 and code[0] == "L"
    assert label_code_valid(code)
    assert label_code_valid(code.lower())
    for i in range(1, 8):
        for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            if ch != code[i]:
                assert not label_code_valid(code[:i] + ch + code[i + 1 :]), (code, i, ch)
                break


def test_label_check_character_catches_swapped_neighbours() -> None:
    body = "LAB12CD"
    swapped = "LBA12CD"
    assert label_check_char(body) != label_check_char(swapped)


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("short", False),
        ("aaaaaaaaaaaa", False),
        ("maria-maria", False),  # 11 characters: ASVS L1 asks for 12
        ("maria-maria-1", True),
        ("correct-horse", True),
        ("x" * 201, False),
    ],
)
def test_password_policy(password: str, ok: bool) -> None:
    assert (password_problem(password, username="maria") is None) is ok


def test_password_cannot_be_the_username() -> None:
    assert password_problem("maria.lopez", username="Maria.Lopez") is not None


def test_usernames() -> None:
    assert username_problem("maria.lopez") is None
    assert username_problem("m") is not None
    assert username_problem("-maria") is not None
    assert username_problem("maria lopez") is not None


def test_time_zones_and_provinces() -> None:
    assert timezone_problem("America/Toronto") is None
    assert timezone_problem("America/St_Johns") is None
    assert timezone_problem("Mars/Olympus") is not None
    assert timezone_problem("../etc/passwd") is not None
    assert province_problem("QC") is None
    assert province_problem("ZZ") is not None


def test_who_can_grant_which_role() -> None:
    assert all(can_grant(Role.ADMIN, r) for r in Role)
    assert can_grant(Role.MANAGER, Role.ASSISTANT) and not can_grant(Role.MANAGER, Role.ADMIN)
    assert not any(can_grant(Role.INSPECTOR, r) for r in Role)
    assert not any(can_grant(Role.ASSISTANT, r) for r in Role)


def test_event_hash_depends_on_every_field_and_the_previous_hash() -> None:
    fields = {
        "chain": "site:1",
        "seq": 1,
        "at": NOW,
        "actor": "user:1",
        "site_id": 1,
        "action": "a",
        "entity": "e",
        "entity_id": "1",
        "payload": '{"b":1,"a":2}',
    }
    base = audit.event_hash(audit.GENESIS, fields)
    assert base == audit.event_hash(audit.GENESIS, {**fields, "payload": '{"a": 2, "b": 1}'})
    assert base != audit.event_hash("1" * 64, fields)
    for key, value in [
        ("seq", 2),
        ("at", NOW + timedelta(microseconds=1)),
        ("actor", "user:2"),
        ("site_id", 2),
        ("action", "b"),
        ("entity", "f"),
        ("entity_id", "2"),
        ("payload", '{"a":3,"b":1}'),
        ("chain", "site:2"),
    ]:
        assert audit.event_hash(audit.GENESIS, {**fields, key: value}) != base, key
