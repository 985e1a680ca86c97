"""The sweep: every rule's query feeds one upsert and one resolve statement, for all sites at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server import sql
from server.alerts.rules import RULES, ComputedRule, Found, Rule
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
    "RETURNING id"
)


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    open: int
    resolved: int


# PostgreSQL needs the parameters' types spelled out (they are untyped in a UNION); SQLite must not
# get CAST(... AS DATE), which would turn '2026-12-01' into the number 2026.
_ROW_PG = (
    "SELECT CAST({} AS INTEGER) AS site, CAST({} AS VARCHAR) AS subject, CAST({} AS VARCHAR) AS severity, "
    "CAST({} AS TEXT) AS title, CAST({} AS VARCHAR) AS subject_name, CAST({} AS INTEGER) AS quantity, "
    "CAST({} AS DATE) AS due"
)
_ROW_SQLITE = (
    "SELECT {} AS site, {} AS subject, {} AS severity, {} AS title, {} AS subject_name, {} AS quantity, "
    "{} AS due"
)
BATCH = 200  # rows per statement for computed rules


async def _upsert_found(rule: ComputedRule, now: datetime) -> None:
    rows = await rule.compute(now)
    for start in range(0, len(rows), BATCH):
        batch: list[Found] = rows[start : start + BATCH]
        union = " UNION ALL ".join([_ROW_SQLITE if is_sqlite() else _ROW_PG] * len(batch))
        values = [
            v
            for f in batch
            for v in (f.site, f.subject, f.severity, f.title, f.subject_name, f.quantity, f.due)
        ]
        await sql.fetch(_UPSERT.replace("RULE_SQL", union), rule.name, now, now, *values)


async def sweep_rule(rule: Rule | ComputedRule, now: datetime) -> RuleOutcome:
    async with write_transaction():
        if isinstance(rule, ComputedRule):
            await _upsert_found(rule, now)
        else:
            await sql.fetch(
                _UPSERT.replace("RULE_SQL", rule.text(is_sqlite())), rule.name, now, now, *rule.params(now)
            )
        resolved = await sql.fetch(_RESOLVE, now, rule.name, now)
        still = await sql.fetchrow(
            "SELECT COUNT(*) AS n FROM alert WHERE rule = {} AND resolved_at IS NULL", rule.name
        )
    return RuleOutcome(rule.name, int(still["n"]) if still else 0, len(resolved))


async def sweep(now: datetime, rules: list[Rule | ComputedRule] | None = None) -> list[RuleOutcome]:
    """Run every rule (each in its own short transaction, so one slow rule holds nothing else)."""
    chosen = RULES if rules is None else rules
    return [await sweep_rule(rule, now) for rule in chosen]
