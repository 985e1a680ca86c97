"""The sweep: every rule's query feeds one upsert and one resolve statement, for all sites at once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from server import sql
from server.alerts.rules import RULES, ComputedRule, Found, Rule
from server.alerts.tables import AlertSiteSeen
from server.db import is_sqlite, write_transaction

# The rule's rows become open alerts; an alert already open for that rule and subject is refreshed
# (last seen, wording, quantity), so an acknowledged or snoozed alert stays so while it lasts.
_UPSERT = """
INSERT INTO alert (site, rule, subject, severity, title, subject_name, quantity, due,
                   first_seen, last_seen, acknowledged_by, ack_comment)
SELECT d.site, {}, d.subject, d.severity, d.title, d.subject_name, d.quantity, d.due, {}, {}, '', ''
FROM (RULE_SQL) d
WHERE true
ON CONFLICT (rule, subject) WHERE resolved_at IS NULL
DO UPDATE SET last_seen = excluded.last_seen, severity = excluded.severity, title = excluded.title,
              subject_name = excluded.subject_name, quantity = excluded.quantity, due = excluded.due
"""

_RESOLVE = (
    "UPDATE alert SET resolved_at = {} WHERE rule = {} AND resolved_at IS NULL AND last_seen < {} "
    "AND SITES(site) RETURNING id"
)
_SITES = re.compile(r"SITES\(([\w.]+)\)")


def scope(text: str, sites: list[int] | None) -> str:
    """A rule's SITES(column) marks as "column IN (the sites)", or as true without a list. The ids
    are the database's own integers, written as literals: one condition per table (so each is read
    through its site index) without renumbering the rule's parameters."""
    if sites is None:
        return _SITES.sub("1 = 1", text)
    ids = ", ".join(str(int(site)) for site in sites)
    return _SITES.sub(lambda m: f"{m.group(1)} IN ({ids})", text)


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    open: int
    resolved: int


# A computed rule's rows reach the upsert as parameters. PostgreSQL takes them as one array per
# column (one statement, however many rows); SQLite as UNION ALL batches (a clinic has few), where
# no CAST(... AS DATE) may appear: it would turn '2026-12-01' into the number 2026.
_ROWS_PG = (
    "SELECT * FROM unnest(CAST({} AS INTEGER[]), CAST({} AS VARCHAR[]), CAST({} AS VARCHAR[]), "
    "CAST({} AS TEXT[]), CAST({} AS VARCHAR[]), CAST({} AS INTEGER[]), CAST({} AS DATE[])) "
    "AS f(site, subject, severity, title, subject_name, quantity, due)"
)
_ROW_SQLITE = (
    "SELECT {} AS site, {} AS subject, {} AS severity, {} AS title, {} AS subject_name, {} AS quantity, "
    "{} AS due"
)
BATCH = 200  # rows per statement on SQLite


def _columns(rows: list[Found]) -> list[list[Any]]:
    return [
        [f.site for f in rows],
        [f.subject for f in rows],
        [f.severity for f in rows],
        [f.title for f in rows],
        [f.subject_name for f in rows],
        [f.quantity for f in rows],
        [f.due for f in rows],
    ]


async def _upsert_found(rule: ComputedRule, now: datetime) -> None:
    rows = await rule.compute(now)
    if not rows:
        return
    if not is_sqlite():
        await sql.fetch(_UPSERT.replace("RULE_SQL", _ROWS_PG), rule.name, now, now, *_columns(rows))
        return
    for start in range(0, len(rows), BATCH):
        batch: list[Found] = rows[start : start + BATCH]
        union = " UNION ALL ".join([_ROW_SQLITE] * len(batch))
        values = [
            v
            for f in batch
            for v in (f.site, f.subject, f.severity, f.title, f.subject_name, f.quantity, f.due)
        ]
        await sql.fetch(_UPSERT.replace("RULE_SQL", union), rule.name, now, now, *values)


async def sweep_rule(rule: Rule | ComputedRule, now: datetime, sites: list[int] | None = None) -> RuleOutcome:
    """One rule: upsert what it finds, resolve what it no longer finds. ``sites``: only those
    (a SQL rule's rows and open alerts elsewhere are left as they are)."""
    async with write_transaction():
        if not is_sqlite():
            # The stock rules aggregate every lot of every site: room to hash in memory. JIT
            # compiling took ~0.7 s per large query here and saved less than that.
            await sql.fetch("SET LOCAL work_mem = '64MB'")
            await sql.fetch("SET LOCAL jit = off")
        if isinstance(rule, ComputedRule):
            await _upsert_found(rule, now)
        else:
            text = scope(rule.text(is_sqlite()), sites)
            await sql.fetch(_UPSERT.replace("RULE_SQL", text), rule.name, now, now, *rule.params(now))
        resolved = await sql.fetch(scope(_RESOLVE, sites), now, rule.name, now)
        return await _count(rule, len(resolved))


async def sweep(now: datetime, rules: list[Rule | ComputedRule] | None = None) -> list[RuleOutcome]:
    """Run every rule (each in its own short transaction, so one slow rule holds nothing else)."""
    chosen = RULES if rules is None else rules
    return [await sweep_rule(rule, now) for rule in chosen]


_CHANGED = """
SELECT s.id AS site, COALESCE(h.seq, 0) AS seq
FROM site s
LEFT JOIN audit_head h ON h.chain = 'site:' || CAST(s.id AS VARCHAR)
LEFT JOIN alert_site_seen seen ON seen.site = s.id
WHERE seen.id IS NULL OR seen.seq <> COALESCE(h.seq, 0) OR seen.day < {}
ORDER BY s.id
"""


async def changed_sites(now: datetime) -> dict[int, int]:
    """Sites whose records changed since the stock rules last read them (their audit chain grew),
    or not yet read today: site -> the chain length now."""
    return {int(r["site"]): int(r["seq"]) for r in await sql.fetch(_CHANGED, now.date())}


async def _mark_seen(seen: dict[int, int], day: date) -> None:
    async with write_transaction():
        await AlertSiteSeen.insert(
            *[AlertSiteSeen(site=site_id, seq=seq, day=day) for site_id, seq in seen.items()]
        ).on_conflict(
            target=AlertSiteSeen.site,
            action="DO UPDATE",
            values=[AlertSiteSeen.seq, AlertSiteSeen.day],
        )


async def sweep_changes(now: datetime) -> list[RuleOutcome]:
    """The scheduled sweep: every rule, but the stock rules (which change only with a site's
    records or the date) re-read only the sites that changed since their last sweep, or all of
    them on the first sweep of a day. A full ``sweep`` gives the same open alerts."""
    seen = await changed_sites(now)
    sites = sorted(seen)
    outcomes = []
    for rule in RULES:
        if isinstance(rule, Rule) and rule.data_and_day_only:
            outcomes.append(await sweep_rule(rule, now, sites) if sites else await _count(rule))
        else:
            outcomes.append(await sweep_rule(rule, now))
    if seen:
        await _mark_seen(seen, now.date())
    return outcomes


async def _count(rule: Rule | ComputedRule, resolved: int = 0) -> RuleOutcome:
    still = await sql.fetchrow(
        "SELECT COUNT(*) AS n FROM alert WHERE rule = {} AND resolved_at IS NULL", rule.name
    )
    return RuleOutcome(rule.name, int(still["n"]) if still else 0, resolved)
