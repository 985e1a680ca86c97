"""The sweep: every rule's query feeds one upsert and one resolve statement, for all sites at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server import sql
from server.alerts.rules import RULES, Rule
from server.db import write_transaction

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


async def sweep_rule(rule: Rule, now: datetime) -> RuleOutcome:
    async with write_transaction():
        await sql.fetch(_UPSERT.replace("RULE_SQL", rule.sql), rule.name, now, now, *rule.params(now))
        resolved = await sql.fetch(_RESOLVE, now, rule.name, now)
        still = await sql.fetchrow(
            "SELECT COUNT(*) AS n FROM alert WHERE rule = {} AND resolved_at IS NULL", rule.name
        )
    return RuleOutcome(rule.name, int(still["n"]) if still else 0, len(resolved))


async def sweep(now: datetime, rules: list[Rule] | None = None) -> list[RuleOutcome]:
    """Run every rule (each in its own short transaction, so one slow rule holds nothing else)."""
    chosen = RULES if rules is None else rules
    return [await sweep_rule(rule, now) for rule in chosen]
