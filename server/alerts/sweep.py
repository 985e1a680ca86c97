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
from server.stock import rollup

# A rule's rows are first put in a temporary table, which the three statements below read.
_FOUND_COLUMNS = (
    "site INTEGER, subject VARCHAR(80), severity VARCHAR(16), title TEXT, subject_name VARCHAR(300), "
    "quantity INTEGER, due DATE"
)
_FOUND = (
    "INSERT INTO alert_found "
    "SELECT d.site, d.subject, d.severity, d.title, d.subject_name, d.quantity, d.due FROM (RULE_SQL) d"
)

# The rows become open alerts; an alert already open for that rule and subject is rewritten only
# when its wording or figures changed (an acknowledged or snoozed alert stays so while it lasts).
# Its sighting is the rule's (alert_sighting, below), so unchanged alerts cost a lookup, not a write.
_UPSERT = """
INSERT INTO alert (site, rule, subject, severity, title, subject_name, quantity, due,
                   first_seen, last_seen, acknowledged_by, ack_comment)
SELECT f.site, {}, f.subject, f.severity, f.title, f.subject_name, f.quantity, f.due, {}, {}, '', ''
FROM alert_found f
WHERE true
ON CONFLICT (rule, subject) WHERE resolved_at IS NULL
DO UPDATE SET last_seen = excluded.last_seen, severity = excluded.severity, title = excluded.title,
              subject_name = excluded.subject_name, quantity = excluded.quantity, due = excluded.due
WHERE alert.severity <> excluded.severity OR alert.title <> excluded.title
   OR alert.subject_name <> excluded.subject_name OR alert.quantity IS DISTINCT FROM excluded.quantity
   OR alert.due IS DISTINCT FROM excluded.due
"""

# What the rule no longer finds is resolved; its last sighting is the rule's previous one there.
# NOT IN over the found subjects is hashed once on both engines (the temporary table has no
# statistics; with NOT EXISTS PostgreSQL chose to scan it once per open alert).
_RESOLVE = """
UPDATE alert SET resolved_at = {},
    last_seen = COALESCE((SELECT s.at FROM alert_sighting s
                          WHERE s.rule = alert.rule AND s.site = alert.site AND s.at > alert.last_seen),
                         alert.last_seen)
WHERE rule = {} AND resolved_at IS NULL AND SITES(site)
  AND subject NOT IN (SELECT f.subject FROM alert_found f WHERE f.subject IS NOT NULL)
RETURNING id
"""

_SIGHTED = """
INSERT INTO alert_sighting (rule, site, at) SELECT {}, s.id, {} FROM site s WHERE SITES(s.id)
ON CONFLICT (rule, site) DO UPDATE SET at = excluded.at
"""
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


async def _find(rule: Rule | ComputedRule, now: datetime, sites: list[int] | None) -> None:
    """The rule's rows into alert_found (computed rules' rows go in as parameters)."""
    if isinstance(rule, Rule):
        text = scope(rule.text(is_sqlite()), sites)
        await sql.fetch(_FOUND.replace("RULE_SQL", text), *rule.params(now))
        return
    rows = await rule.compute(now)
    if not rows:
        return
    if not is_sqlite():
        await sql.fetch(_FOUND.replace("RULE_SQL", _ROWS_PG), *_columns(rows))
        return
    for start in range(0, len(rows), BATCH):
        batch: list[Found] = rows[start : start + BATCH]
        union = " UNION ALL ".join([_ROW_SQLITE] * len(batch))
        values = [
            v
            for f in batch
            for v in (f.site, f.subject, f.severity, f.title, f.subject_name, f.quantity, f.due)
        ]
        await sql.fetch(_FOUND.replace("RULE_SQL", union), *values)


async def sweep_rule(rule: Rule | ComputedRule, now: datetime, sites: list[int] | None = None) -> RuleOutcome:
    """One rule: upsert what it finds, resolve what it no longer finds. ``sites``: only those
    (a SQL rule's rows and open alerts elsewhere are left as they are)."""
    scoped = sites if isinstance(rule, Rule) else None  # computed rules read every site
    async with write_transaction():
        if not is_sqlite():
            # JIT compiling took ~0.7 s per large query here and saved less than that; the region's
            # rows are in memory, where an index lookup costs about what a sequential read does.
            await sql.fetch("SET LOCAL work_mem = '64MB'")
            await sql.fetch("SET LOCAL jit = off")
            await sql.fetch("SET LOCAL random_page_cost = 1.1")
        if isinstance(rule, Rule) and rule.data_and_day_only:
            await rollup.fold()  # the stock rules read the folded view
        async with sql.scratch_table("alert_found", _FOUND_COLUMNS):
            await _find(rule, now, scoped)
            await sql.fetch(_UPSERT, rule.name, now, now)
            resolved = await sql.fetch(scope(_RESOLVE, scoped), now, rule.name)
            await sql.fetch(scope(_SIGHTED, scoped), rule.name, now)
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
