"""The sizes of each data set (per site unless noted) and the id blocks that keep ids reproducible."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Scale:
    name: str
    sites: int
    items: int  # catalog items per site (the same region-wide catalog, rows per site)
    lots: int
    movements: int  # stock movements per site, receipts included
    fridges: int
    reading_minutes: int  # one logger reading per fridge every this many minutes
    reading_days: int
    devices: int  # reusable devices per site
    cycles: int  # reprocessing cycles per site (about 9 records each: steps, pack, use, 1/4 load)
    cleaning_days: int  # days of end-of-day cleaning logs per room

    def with_sites(self, sites: int | None) -> Scale:
        return self if sites is None else replace(self, sites=sites)


SCALES: dict[str, Scale] = {
    # For tests: every table gets rows in a fraction of a second.
    "tiny": Scale("tiny", 2, 20, 50, 400, 1, 60, 7, 4, 12, 10),
    # design §6, one clinic on SQLite: ~2,000 items, ~10,000 lots, ~100 scans an hour over a
    # 10-hour day for a year.
    "clinic": Scale("clinic", 1, 2000, 10_000, 365_000, 2, 15, 365, 40, 1800, 365),
    # design §6, a region on PostgreSQL: 500 sites, 10 M movements, ~1 M reprocessing records,
    # 500 fridges read every 15 minutes for a year (17.5 M readings).
    "region": Scale("region", 500, 2000, 4000, 20_000, 1, 15, 365, 30, 216, 180),
}

ROOMS = 3  # exam rooms 1-2 and the reprocessing room: each gets the default cleaning plans
USERS = ("manager", "assistant", "assistant2", "inspector")
PASSWORD = "generated-demo-1"  # noqa: S105  (every generated account's password; demo data only)


def caps(scale: Scale) -> dict[str, int]:
    """Upper bounds of rows per site for each table: a site's ids are ``site_index * cap + n``."""
    slots = scale.reading_days * 24 * 60 // scale.reading_minutes
    loads = scale.cycles // 4 + 1
    return {
        "site": 1,
        "app_user": len(USERS),
        "membership": len(USERS),
        "location": 4 + scale.fridges + ROOMS,
        "fridge_setting": scale.fridges,
        "item": scale.items,
        "item_code": scale.items,
        "lot": scale.lots,
        "stock_level": scale.lots,
        "movement": scale.movements,
        "temperature_reading": scale.fridges * slots,
        "rp_sterilizer": 1,
        "rp_device": scale.devices,
        "rp_load": loads,
        "rp_pack": scale.cycles + scale.devices,
        "rp_step": scale.cycles * 7 + scale.devices * 3,
        "rp_use": scale.cycles + scale.devices,
        "cleaning_plan": ROOMS * 3,
        "cleaning_plan_version": ROOMS * 3,
        "cleaning_log": ROOMS * scale.cleaning_days,
        "cleaning_log_item": ROOMS * scale.cleaning_days * 8,
        "audit_event": 40,
    }
