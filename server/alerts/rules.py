"""Alert rules: each one SQL query over every site that lists what is wrong right now.

A rule's query returns one row per subject with the columns `site, subject, severity, title,
subject_name, quantity, due`. The sweep (server/alerts/sweep.py) upserts those rows into the open
alerts and resolves the open alerts the query no longer returns: set-based, idempotent, the same
on SQLite and PostgreSQL. Parameters are dates computed here from the sweep's clock, so that date
arithmetic never depends on the engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

# When the rules speak up, per site (alert_settings; a site without a row gets these, issue 9's
# defaults): days before expiry per item kind, hours a used device may stay dirty (domain §1:
# point-of-use cleaning the same session), days an order may stay open after it was sent.
THRESHOLDS = {"expiry_days_vaccine": 30, "expiry_days_other": 60, "dirty_hours": 4, "order_overdue_days": 14}
COUNT_EVERY_DAYS = 31  # the vaccine fridge is counted monthly


@dataclass(frozen=True)
class Rule:
    name: str
    # The query, or a function of "is this SQLite?" for the few rules whose date arithmetic
    # differs between the engines (a per-site number of days or hours).
    sql: str | Callable[[bool], str]
    params: Callable[[datetime], tuple[Any, ...]]
    # True when the rows can only change with the site's records or the (UTC) date: the scheduled
    # sweep then re-reads only the sites whose audit chain grew since (sweep.changed_sites). Such a
    # rule marks each table's site column SITES(alias.site): the sweep turns the marks into
    # "in these sites" (so every table is read by its site index) or into "true".
    data_and_day_only: bool = False

    def text(self, sqlite: bool) -> str:
        return self.sql if isinstance(self.sql, str) else self.sql(sqlite)


def _setting(name: str, alias: str = "st") -> str:
    return f"COALESCE({alias}.{name}, {THRESHOLDS[name]})"


def _plus_days(sqlite: bool, day: str, days: str) -> str:
    """SQL for the date ``day`` plus ``days`` days (dates are ISO text on SQLite)."""
    return f"date({day}, '+' || {days} || ' days')" if sqlite else f"(CAST({day} AS DATE) + {days})"


def _before(sqlite: bool, at: str, now: str, hours: str) -> str:
    """SQL for "timestamp ``at`` is more than ``hours`` hours before ``now``"."""
    if sqlite:
        return f"julianday({at}) < julianday({now}) - {hours} / 24.0"
    return f"{at} < CAST({now} AS TIMESTAMPTZ) - {hours} * INTERVAL '1 hour'"


@dataclass(frozen=True)
class Found:
    """One row of a computed rule, the same columns a SQL rule returns."""

    site: int
    subject: str
    severity: str
    title: str
    subject_name: str
    quantity: int | None = None
    due: date | None = None


@dataclass(frozen=True)
class ComputedRule:
    """A rule whose test depends on each site's local calendar (due times in its time zone, DST):
    computed by the feature's own schedule code, then stored by the same set-based upsert."""

    name: str
    compute: Callable[[datetime], Awaitable[list[Found]]]


# The stock rules read the sweep's view of stock (server/stock/rollup.py, folded just before):
# lot_stock has each lot with units on hand (and its item's name and settings), item_stock each
# active item at or below its reorder point by its units in available lots. Usable = those units
# less the ones past their expiry.
_EXPIRED_HELD = """
SELECT ls.site, ls.item, ls.name, ls.kind, ls.active, ls.reorder_point, ls.par_level, SUM(ls.on_hand) AS units
FROM lot_stock ls
WHERE ls.expiry < {} AND ls.status = 'available' AND SITES(ls.site)
GROUP BY ls.site, ls.item, ls.name, ls.kind, ls.active, ls.reorder_point, ls.par_level
"""

# The items that can be low or out: those in item_stock, and those above their reorder point
# only because their total still counts expired units (a few: each one's lots by the item index).
_USABLE_BY_ITEM = """
SELECT s.site, s.item AS id, s.name, s.kind, s.reorder_point, s.par_level,
       s.available - COALESCE(x.units, 0) AS usable
FROM item_stock s
LEFT JOIN (EXPIRED_HELD) x ON x.item = s.item
WHERE SITES(s.site)
UNION ALL
SELECT x.site, x.item AS id, x.name, x.kind, x.reorder_point, x.par_level,
       (SELECT SUM(a.on_hand) FROM lot_stock a WHERE a.item = x.item AND a.status = 'available') - x.units
           AS usable
FROM (EXPIRED_HELD) x
WHERE x.active AND NOT EXISTS (SELECT 1 FROM item_stock s2 WHERE s2.item = x.item)
""".replace("EXPIRED_HELD", _EXPIRED_HELD)

LOW_STOCK = Rule(
    "low_stock",
    """
SELECT u.site, 'item:' || CAST(u.id AS VARCHAR) AS subject, 'warning' AS severity,
       'Low stock: ' || u.name || ', ' || CAST(u.usable AS VARCHAR) || ' left (reorder at '
           || CAST(u.reorder_point AS VARCHAR) || ')' AS title,
       u.name AS subject_name, u.usable AS quantity, CAST(NULL AS DATE) AS due
FROM ("""
    + _USABLE_BY_ITEM
    + """) u
WHERE u.reorder_point > 0 AND u.usable > 0 AND u.usable <= u.reorder_point
""",
    lambda now: (now.date(), now.date()),
    data_and_day_only=True,
)

OUT_OF_STOCK = Rule(
    "out_of_stock",
    """
SELECT u.site, 'item:' || CAST(u.id AS VARCHAR) AS subject,
       CASE WHEN u.kind = 'vaccine' THEN 'critical' ELSE 'warning' END AS severity,
       'Out of stock: ' || u.name || ' (none usable left)' AS title,
       u.name AS subject_name, 0 AS quantity, CAST(NULL AS DATE) AS due
FROM ("""
    + _USABLE_BY_ITEM
    + """) u
WHERE (u.reorder_point > 0 OR u.par_level > 0) AND u.usable = 0
""",
    lambda now: (now.date(), now.date()),
    data_and_day_only=True,
)

# Lots with units on hand that match WHICH; each rule's condition is written so that an index
# of lot_stock answers it (by expiry, or the held statuses).
_HELD_LOTS = """
SELECT ls.site, ls.lot AS id, ls.lot_number, ls.expiry, ls.status, ls.name, ls.kind, ls.on_hand
FROM lot_stock ls
WHERE SITES(ls.site) AND (WHICH)
"""
# The furthest any site looks ahead, so the expiry index is read for that range only.
_LONGEST_LOOK_AHEAD = (
    "(SELECT MAX(m.n) FROM (SELECT VACCINE AS n UNION ALL SELECT OTHER AS n "
    "UNION ALL SELECT expiry_days_vaccine AS n FROM alert_settings "
    "UNION ALL SELECT expiry_days_other AS n FROM alert_settings) m)"
)
_LONGEST_LOOK_AHEAD = _LONGEST_LOOK_AHEAD.replace("VACCINE", str(THRESHOLDS["expiry_days_vaccine"])).replace(
    "OTHER", str(THRESHOLDS["expiry_days_other"])
)


def _expiring_sql(sqlite: bool) -> str:
    vaccine = _plus_days(sqlite, "{}", _setting("expiry_days_vaccine"))
    other = _plus_days(sqlite, "{}", _setting("expiry_days_other"))
    furthest = _plus_days(sqlite, "{}", _LONGEST_LOOK_AHEAD)
    held = _HELD_LOTS.replace(
        "WHICH", f"ls.status = 'available' AND ls.expiry >= {{}} AND ls.expiry <= {furthest}"
    )
    return (
        """
SELECT t.site, 'lot:' || CAST(t.id AS VARCHAR) AS subject, 'warning' AS severity,
       'Expires ' || CAST(t.expiry AS VARCHAR) || ': ' || t.name || ' lot ' || t.lot_number || ', '
           || CAST(t.on_hand AS VARCHAR) || ' on hand' AS title,
       t.name || ' · ' || t.lot_number AS subject_name, t.on_hand AS quantity, t.expiry AS due
FROM ("""
        + held
        + f""") t
LEFT JOIN alert_settings st ON st.site = t.site
WHERE (t.kind = 'vaccine' AND t.expiry <= {vaccine}) OR (t.kind <> 'vaccine' AND t.expiry <= {other})
"""
    )


EXPIRING = Rule(
    "expiring",
    _expiring_sql,
    lambda now: (now.date(), now.date(), now.date(), now.date()),
    data_and_day_only=True,
)

EXPIRED_ON_SHELF = Rule(
    "expired_on_shelf",
    """
SELECT t.site, 'lot:' || CAST(t.id AS VARCHAR) AS subject, 'critical' AS severity,
       'Expired, still on the shelf: ' || t.name || ' lot ' || t.lot_number || ', '
           || CAST(t.on_hand AS VARCHAR) || ' to record as waste' AS title,
       t.name || ' · ' || t.lot_number AS subject_name, t.on_hand AS quantity, t.expiry AS due
FROM ("""
    # status <> 'available' restates the status index's condition (it is implied; said so that
    # the planners need not prove it).
    + _HELD_LOTS.replace(
        "WHICH",
        "(ls.status <> 'available' AND ls.status = 'expired') "
        "OR (ls.expiry < {} AND ls.status IN ('available', 'quarantined'))",
    )
    + """) t
""",
    lambda now: (now.date(),),
    data_and_day_only=True,
)

QUARANTINED = Rule(
    "quarantined_waiting",
    """
SELECT t.site, 'lot:' || CAST(t.id AS VARCHAR) AS subject, 'warning' AS severity,
       'On hold, waiting for a decision: ' || t.name || ' lot ' || t.lot_number || ', '
           || CAST(t.on_hand AS VARCHAR) || ' held' AS title,
       t.name || ' · ' || t.lot_number AS subject_name, t.on_hand AS quantity, CAST(NULL AS DATE) AS due
FROM ("""
    + _HELD_LOTS.replace("WHICH", "ls.status <> 'available' AND ls.status = 'quarantined'")
    + """) t
""",
    lambda _now: (),
    data_and_day_only=True,
)

COUNT_OVERDUE = Rule(
    "count_overdue",
    """
SELECT loc.site, 'location:' || CAST(loc.id AS VARCHAR) AS subject, 'info' AS severity,
       'Monthly count due: ' || loc.name || ' (no count posted in ' || {} || ' days)'
           AS title,
       loc.name AS subject_name, CAST(NULL AS INTEGER) AS quantity, CAST(NULL AS DATE) AS due
FROM location loc
WHERE loc.active = {} AND loc.kind IN ('fridge', 'freezer')
  AND EXISTS (SELECT 1 FROM stock_level sl WHERE sl.location = loc.id AND sl.on_hand > 0)
  AND NOT EXISTS (SELECT 1 FROM stock_count c WHERE c.location = loc.id AND c.status = 'posted'
                  AND c.posted_at >= {})
""",
    lambda now: (str(COUNT_EVERY_DAYS), True, now - timedelta(days=COUNT_EVERY_DAYS)),
)


async def _cleaning_overdue(now: datetime) -> list[Found]:
    from server.cleaning.service import overdue_sweep

    found = []
    for site_id, tasks in (await overdue_sweep(now=now)).items():
        for task in tasks:
            since = f" (due {task.due_at:%Y-%m-%d %H:%M} UTC)" if task.due_at else ""
            found.append(
                Found(
                    site=site_id,
                    subject=f"plan:{task.plan_id}",
                    severity="warning",
                    title=f"Cleaning overdue: {task.room_name}, {task.plan_name}{since}",
                    subject_name=f"{task.room_name} · {task.plan_name}",
                    due=task.due_at.date() if task.due_at else None,
                )
            )
    return found


CLEANING_OVERDUE = ComputedRule("cleaning_overdue", _cleaning_overdue)


async def _reading_missing(now: datetime) -> list[Found]:
    from server.coldchain.readings import overdue_everywhere

    return [
        Found(
            site=site_id,
            subject=f"reading:{slot.location_id}:{slot.day.isoformat()}:{slot.time}",
            severity="warning",
            title=f"Temperature reading missing: {slot.location_name}, {slot.time} on {slot.day.isoformat()}",
            subject_name=f"{slot.location_name} · {slot.time}",
            due=slot.day,
        )
        for site_id, slot in await overdue_everywhere(now=now)
    ]


READING_MISSING = ComputedRule("reading_missing", _reading_missing)

# Raised at once by the reading that finds the excursion (server/coldchain/incidents.py), and kept
# by the sweep until the incident is closed.
TEMPERATURE_EXCURSION = Rule(
    "temperature_excursion",
    """
SELECT i.site, 'incident:' || CAST(i.id AS VARCHAR) AS subject, 'critical' AS severity,
       'Temperature out of range: ' || loc.name || '. Stock there is on hold: DO NOT USE until decided.'
           AS title,
       loc.name AS subject_name,
       (SELECT COUNT(*) FROM coldchain_incident_lot il WHERE il.incident = i.id AND il.decision = '')
           AS quantity,
       CAST(NULL AS DATE) AS due
FROM coldchain_incident i JOIN location loc ON loc.id = i.location
WHERE i.status = 'open'
""",
    lambda _now: (),
)

def _dirty_sql(sqlite: bool) -> str:
    hours = _setting("dirty_hours")
    late = _before(sqlite, "(SELECT MAX(s.at) FROM rp_step s WHERE s.device = d.id)", "{}", hours)
    # Only constants of this module go into the text; values are parameters.
    return f"""
SELECT d.site, 'device:' || CAST(d.id AS VARCHAR) AS subject, 'warning' AS severity,
       'Left dirty for more than ' || CAST({hours} AS VARCHAR)
           || CASE WHEN {hours} = 1 THEN ' hour: ' ELSE ' hours: ' END || d.name AS title,
       d.name AS subject_name, CAST(NULL AS INTEGER) AS quantity, CAST(NULL AS DATE) AS due
FROM rp_device d
LEFT JOIN alert_settings st ON st.site = d.site
WHERE d.active = {{}} AND d.status = 'dirty' AND {late}
"""  # noqa: S608


DEVICE_LEFT_DIRTY = Rule("device_left_dirty", _dirty_sql, lambda now: (True, now))

# A high-level disinfectant past its reuse life and not yet discarded. (A use with no passing
# concentration test since the last one cannot happen: the HLD step refuses it.)
HLD_SOLUTION = Rule(
    "hld_solution_expired",
    """
SELECT h.site, 'hld:' || CAST(h.id AS VARCHAR) AS subject, 'warning' AS severity,
       'HLD solution past its reuse life, discard it: ' || h.product || ' lot ' || h.lot AS title,
       h.product || ' · ' || h.lot AS subject_name, CAST(NULL AS INTEGER) AS quantity, h.expires_on AS due
FROM rp_hld_solution h
WHERE h.discarded_at IS NULL AND h.expires_on < {}
""",
    lambda now: (now.date(),),
)


async def _sterilization_log(now: datetime) -> list[Found]:
    """Today's gaps in each site's sterilization log (no BI, no Bowie-Dick, unreleased loads,
    unread BIs), as the reprocessing review computes them for the site's local day."""
    from zoneinfo import ZoneInfo

    from server.core.tables import Site
    from server.reprocessing.review import missing_many

    sites = await Site.select(Site.id, Site.timezone).where(Site.active == True)  # noqa: E712
    days = {int(s["id"]): now.astimezone(ZoneInfo(s["timezone"])).date() for s in sites}
    severities = {"no_bi": "warning", "no_bowie_dick": "warning", "bi_unread": "warning"}
    found = []
    for site_id, gaps in (await missing_many(days)).items() if days else ():
        day = gaps.day
        for item in gaps.items:
            what = (
                f"load:{item.load_id}"
                if item.load_id
                else f"sterilizer:{item.sterilizer_id}:{day.isoformat()}"
            )
            found.append(
                Found(
                    site=site_id,
                    subject=f"{item.code}:{what}",
                    severity=severities.get(item.code, "info"),
                    title=f"Sterilization log, {item.sterilizer_name}: {item.message}",
                    subject_name=item.sterilizer_name,
                    due=day,
                )
            )
    return found


STERILIZATION_LOG = ComputedRule("sterilization_log", _sterilization_log)

def _order_overdue_sql(sqlite: bool) -> str:
    days = _setting("order_overdue_days")
    late = _before(sqlite, "o.sent_at", "{}", f"24 * {days}")
    return f"""
SELECT o.site, 'order:' || CAST(o.id AS VARCHAR) AS subject, 'warning' AS severity,
       'Order ' || o.number || ' to ' || s.name || ' sent more than ' || CAST({days} AS VARCHAR)
           || ' days ago is not all in' AS title,
       o.number || ' · ' || s.name AS subject_name, CAST(NULL AS INTEGER) AS quantity,
       CAST(NULL AS DATE) AS due
FROM purchase_order o JOIN supplier s ON s.id = o.supplier
LEFT JOIN alert_settings st ON st.site = o.site
WHERE o.status IN ('sent', 'partly_received') AND {late}
"""  # noqa: S608


# Suppliers here deliver within days; two weeks open (the default) means a chase call.
ORDER_OVERDUE = Rule("order_overdue", _order_overdue_sql, lambda now: (now,))

STOCK_RULES: list[Rule | ComputedRule] = [
    LOW_STOCK,
    OUT_OF_STOCK,
    EXPIRING,
    EXPIRED_ON_SHELF,
    QUARANTINED,
    COUNT_OVERDUE,
]

RULES: list[Rule | ComputedRule] = [
    LOW_STOCK,
    OUT_OF_STOCK,
    EXPIRING,
    EXPIRED_ON_SHELF,
    QUARANTINED,
    COUNT_OVERDUE,
    CLEANING_OVERDUE,
    READING_MISSING,
    TEMPERATURE_EXCURSION,
    DEVICE_LEFT_DIRTY,
    HLD_SOLUTION,
    STERILIZATION_LOG,
    ORDER_OVERDUE,
]
