from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from server.clock import utcnow
from server.core import audit, service
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role
from server.core.schemas import LocationCreate
from server.core.tables import AuditEvent, Site
from tests.factories import Client, login, make_location, make_site, make_user


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )


async def test_every_write_appends_a_linked_event() -> None:
    site = await make_site()
    await make_location(site, "Room 1")
    await make_location(site, "Room 2")
    rows = await AuditEvent.select().where(AuditEvent.chain == f"site:{site}").order_by(AuditEvent.seq)
    assert [r["action"] for r in rows] == ["site.create", "location.create", "location.create"]
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert rows[0]["prev_hash"] == audit.GENESIS
    assert rows[1]["prev_hash"] == rows[0]["hash"]
    status = await audit.verify_chain(f"site:{site}")
    assert (status.ok, status.events) == (True, 3)


async def test_sites_have_their_own_chains_and_users_are_global() -> None:
    a, b = await make_site("A"), await make_site("B")
    await make_user("maria", site_id=a, role=Role.ASSISTANT)
    chains = await audit.chains()
    assert chains == sorted(["global", f"site:{a}", f"site:{b}"])
    global_events = await AuditEvent.select(AuditEvent.action).where(AuditEvent.chain == "global")
    assert [e["action"] for e in global_events] == ["user.create"]


async def test_append_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError, match="inside"):
        await audit.append(
            actor="system", site_id=None, action="x", entity="x", entity_id=1, payload={}, now=utcnow()
        )


async def test_editing_a_row_behind_the_apps_back_is_found(client: Client) -> None:
    site = await make_site()
    for i in range(4):
        await make_location(site, f"Room {i}")
    assert _cli("audit", "verify").returncode == 0
    # Piccolo's raw() uses {} for parameters.
    await Site.raw(
        "UPDATE audit_event SET payload = {} WHERE chain = {} AND seq = 3",
        '{"name": "Broom closet"}',
        f"site:{site}",
    )
    status = await audit.verify_chain(f"site:{site}")
    assert (status.ok, status.first_broken_seq) == (False, 3)
    result = _cli("audit", "verify")
    assert result.returncode == 1
    assert f"BROKEN site:{site} at seq 3" in result.stdout
    await make_user("insp", site_id=site, role=Role.INSPECTOR)
    s = await login(client, "insp")
    seen = (await s.get(f"/api/sites/{site}/audit/status")).json()
    assert seen["ok"] is False and seen["first_broken_seq"] == 3


async def test_a_recomputed_hash_still_breaks_the_next_link() -> None:
    site = await make_site()
    for i in range(3):
        await make_location(site, f"Room {i}")
    row = (
        await AuditEvent.select().where((AuditEvent.chain == f"site:{site}") & (AuditEvent.seq == 2)).first()
    )
    assert row is not None
    row["payload"] = '{"name":"forged"}'
    forged = audit.event_hash(row["prev_hash"], row)
    await AuditEvent.update({AuditEvent.payload: row["payload"], AuditEvent.hash: forged}).where(
        AuditEvent.id == row["id"]
    )
    status = await audit.verify_chain(f"site:{site}")
    assert (status.ok, status.first_broken_seq) == (False, 3)


async def test_deleted_events_are_found() -> None:
    site = await make_site()
    for i in range(3):
        await make_location(site, f"Room {i}")
    await Site.raw(f"DELETE FROM audit_event WHERE chain = 'site:{site}' AND seq = 4")
    status = await audit.verify_chain(f"site:{site}")
    assert (status.ok, status.first_broken_seq) == (False, 4)
    await Site.raw(f"DELETE FROM audit_event WHERE chain = 'site:{site}' AND seq = 2")
    status = await audit.verify_chain(f"site:{site}")
    assert (status.ok, status.first_broken_seq) == (False, 2)


async def test_concurrent_writers_keep_one_chain(pool: None) -> None:
    site = await make_site()
    other = await make_site("Other")

    async def add(i: int) -> None:
        target = site if i % 3 else other
        await service.create_location(
            SYSTEM, target, LocationCreate(name=f"Room {i}", kind=LocationKind.ROOM), now=utcnow()
        )

    await asyncio.gather(*(add(i) for i in range(40)))
    for chain, expected in ((f"site:{site}", 1 + 26), (f"site:{other}", 1 + 14)):
        status = await audit.verify_chain(chain)
        assert (status.ok, status.events) == (True, expected), status
        seqs = [r["seq"] for r in await AuditEvent.select(AuditEvent.seq).where(AuditEvent.chain == chain)]
        assert sorted(seqs) == list(range(1, expected + 1))


@pytest.mark.postgres_only
async def test_parallel_connections_on_postgresql_never_fork_a_chain(pool: None) -> None:
    """Many pooled connections append at once; the head row lock serializes them."""
    from server.db import engine

    site = await make_site()

    async def add(i: int) -> None:
        await service.create_location(
            SYSTEM, site, LocationCreate(name=f"R{i}", kind=LocationKind.ROOM), now=utcnow()
        )

    await asyncio.gather(*(add(i) for i in range(60)))
    rows = await engine().run_ddl(
        "SELECT count(*) AS n, count(DISTINCT prev_hash) AS links "
        f"FROM audit_event WHERE chain = 'site:{site}'"
    )
    assert rows[0]["n"] == 61 and rows[0]["links"] == 61
    status = await audit.verify_chain(f"site:{site}")
    assert status.ok and status.events == 61
