"""The audit chain (design invariant 3): one hash chain per site plus one for global records.

hash = SHA-256(prev_hash + canonical JSON of the event). Appends take the chain
head's row lock, so concurrent writers on PostgreSQL queue up instead of forking
the chain; the unique (chain, seq) index is the last line of defence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from server import sql
from server.core.tables import AuditEvent, AuditHead
from server.db import in_transaction, is_sqlite

GENESIS = "0" * 64
GLOBAL_CHAIN = "global"
VERIFY_BATCH = 1000


def chain_for(site_id: int | None) -> str:
    return GLOBAL_CHAIN if site_id is None else f"site:{site_id}"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def format_at(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    body = canonical_json(
        {
            "chain": fields["chain"],
            "seq": int(fields["seq"]),
            "at": format_at(fields["at"]),
            "actor": fields["actor"],
            "site_id": fields["site_id"],
            "action": fields["action"],
            "entity": fields["entity"],
            "entity_id": str(fields["entity_id"]),
            "payload": _payload(fields["payload"]),
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _payload(value: Any) -> Any:
    # Stored as JSON text on both engines; compare its meaning, not its spacing.
    return json.loads(value) if isinstance(value, str | bytes) else value


async def _advance(chain: str) -> dict[str, Any] | None:
    # Takes the head's row lock until the write commits: the chain cannot fork.
    return await sql.fetchrow(
        "UPDATE audit_head SET seq = seq + 1 WHERE chain = {} RETURNING seq, last_hash", chain
    )


_INSERT_EVENT = (
    "INSERT INTO audit_event (chain, seq, at, actor, site_id, action, entity, entity_id, payload, "
    "prev_hash, hash) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})"
)
_INSERT_EVENT_AND_MOVE_HEAD = (
    "WITH event AS (" + _INSERT_EVENT + ") UPDATE audit_head SET last_hash = {} WHERE chain = {}"  # noqa: S608  (constants only)
)


@dataclass(frozen=True)
class Reserved:
    """A chain's next slot, with the head's row lock held until the transaction ends."""

    chain: str
    seq: int
    prev_hash: str


async def reserve(site_id: int | None) -> Reserved:
    """Take the next slot of the site's chain; concurrent writers of the site queue here."""
    if not in_transaction():
        raise RuntimeError("the audit chain is written only inside the write's transaction")
    chain = chain_for(site_id)
    head = await _advance(chain)
    if head is None:  # the chain's first event: create its head, then take the lock as usual
        await AuditHead.insert(AuditHead(chain=chain, seq=0, last_hash=GENESIS)).on_conflict(
            target=AuditHead.chain, action="DO NOTHING"
        )
        head = await _advance(chain)
        assert head is not None  # noqa: S101  (created just above in this transaction)
    return Reserved(chain, int(head["seq"]), str(head["last_hash"]))


async def write(
    slot: Reserved,
    *,
    actor: str,
    site_id: int | None,
    action: str,
    entity: str,
    entity_id: object,
    payload: Mapping[str, Any],
    now: datetime,
) -> int:
    """Write the event into its reserved slot and move the head on; returns its seq."""
    fields: dict[str, Any] = {
        "chain": slot.chain,
        "seq": slot.seq,
        "at": now,
        "actor": actor,
        "site_id": site_id,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "payload": canonical_json(dict(payload)),
    }
    digest = event_hash(slot.prev_hash, fields)
    values = [*fields.values(), slot.prev_hash, digest]
    if is_sqlite():  # in-process: two statements cost nothing
        await sql.fetch(_INSERT_EVENT, *values)
        await sql.fetch("UPDATE audit_head SET last_hash = {} WHERE chain = {}", digest, slot.chain)
    else:  # one round trip while the head is locked
        await sql.fetch(
            _INSERT_EVENT_AND_MOVE_HEAD,
            *values,
            digest,
            slot.chain,
        )
    return slot.seq


async def append(
    *,
    actor: str,
    site_id: int | None,
    action: str,
    entity: str,
    entity_id: object,
    payload: Mapping[str, Any],
    now: datetime,
) -> int:
    """Append one event in the caller's write transaction; returns its seq."""
    slot = await reserve(site_id)
    return await write(
        slot,
        actor=actor,
        site_id=site_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        payload=payload,
        now=now,
    )


@dataclass(frozen=True)
class ChainStatus:
    chain: str
    events: int
    ok: bool
    first_broken_seq: int | None = None
    reason: str | None = None


async def events_page(chain: str, *, after: int, limit: int) -> list[dict[str, Any]]:
    """Keyset page: events after ``after``, oldest first."""
    rows: list[dict[str, Any]] = await (
        AuditEvent.select()
        .where((AuditEvent.chain == chain) & (AuditEvent.seq > after))
        .order_by(AuditEvent.seq)
        .limit(limit)
    )
    return rows


async def _events(chain: str) -> AsyncIterator[dict[str, Any]]:
    last = 0
    while True:
        batch = await (
            AuditEvent.select()
            .where((AuditEvent.chain == chain) & (AuditEvent.seq > last))
            .order_by(AuditEvent.seq)
            .limit(VERIFY_BATCH)
        )
        for row in batch:
            yield row
        if len(batch) < VERIFY_BATCH:
            return
        last = int(batch[-1]["seq"])


async def verify_chain(chain: str) -> ChainStatus:
    head = await AuditHead.select().where(AuditHead.chain == chain).first()
    prev_hash, expected_seq, count = GENESIS, 1, 0
    async for row in _events(chain):
        seq = int(row["seq"])
        if seq != expected_seq:
            return ChainStatus(chain, count, False, expected_seq, f"event {expected_seq} is missing")
        if row["prev_hash"] != prev_hash:
            return ChainStatus(chain, count, False, seq, "does not link to the event before it")
        if event_hash(prev_hash, row) != row["hash"]:
            return ChainStatus(chain, count, False, seq, "was changed after it was written")
        prev_hash, expected_seq, count = row["hash"], seq + 1, count + 1
    if head is not None and (int(head["seq"]) != count or head["last_hash"] != prev_hash):
        return ChainStatus(chain, count, False, count + 1, "events at the end of the chain were removed")
    return ChainStatus(chain, count, True)


async def chains(site_ids: list[int] | None = None) -> list[str]:
    if site_ids is not None:
        return [chain_for(s) for s in site_ids]
    rows = await AuditHead.select(AuditHead.chain).order_by(AuditHead.chain)
    names = {str(r["chain"]) for r in rows}
    extra = await AuditEvent.select(AuditEvent.chain).distinct()
    names.update(str(r["chain"]) for r in extra)
    return sorted(names)


async def verify_all(site_ids: list[int] | None = None) -> list[ChainStatus]:
    return [await verify_chain(chain) for chain in await chains(site_ids)]
