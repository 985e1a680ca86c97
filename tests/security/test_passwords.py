"""ASVS v2.1 (password length) and v2.4 (stored as a slow salted hash, never in the clear)."""

from __future__ import annotations

from server.core.tables import AppUser
from tests.factories import Client, login, make_user


async def test_a_new_password_has_at_least_twelve_characters(client: Client) -> None:
    await make_user("root", superuser=True)
    s = await login(client, "root")
    short = await s.post(
        "/api/users", {"username": "nina", "display_name": "Nina", "password": "eleven-char"}
    )
    assert short.status_code == 400, short.text
    assert short.json()["code"] == "weak_password"
    assert await AppUser.count().where(AppUser.username == "nina") == 0
    ok = await s.post("/api/users", {"username": "nina", "display_name": "Nina", "password": "twelve-chars"})
    assert ok.status_code == 201, ok.text


async def test_passwords_are_stored_as_argon2_hashes(client: Client) -> None:
    await make_user("nina", password="a-long-secret-pw")
    row = await AppUser.select(AppUser.password_hash).where(AppUser.username == "nina").first()
    assert row is not None
    assert row["password_hash"].startswith("$argon2id$")
    assert "a-long-secret-pw" not in row["password_hash"]
